// Scoped DMDA array access for stencil loops: a[j][i] (or a[j][i][k] with several dof)
// indexed by global grid indices, valid on the owned block and, for a local (ghosted)
// vector, on its ghost points inside the domain.
#pragma once
#include <petscdmda.h>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"

namespace bilearn {

class DMDARead2D {
 public:
  DMDARead2D(DM dm, Vec v) : dm_(dm), v_(v) { BILEARN_CHECK(DMDAVecGetArrayRead(dm_, v_, &a_)); }
  ~DMDARead2D() { DMDAVecRestoreArrayRead(dm_, v_, &a_); }
  DMDARead2D(const DMDARead2D&) = delete;
  DMDARead2D& operator=(const DMDARead2D&) = delete;
  const PetscScalar* operator[](PetscInt j) const noexcept { return a_[j]; }

 private:
  DM dm_;
  Vec v_;
  const PetscScalar* const* a_ = nullptr;
};

class DMDAWrite2D {
 public:
  DMDAWrite2D(DM dm, Vec v) : dm_(dm), v_(v) { BILEARN_CHECK(DMDAVecGetArray(dm_, v_, &a_)); }
  ~DMDAWrite2D() { DMDAVecRestoreArray(dm_, v_, &a_); }
  DMDAWrite2D(const DMDAWrite2D&) = delete;
  DMDAWrite2D& operator=(const DMDAWrite2D&) = delete;
  PetscScalar* operator[](PetscInt j) const noexcept { return a_[j]; }

 private:
  DM dm_;
  Vec v_;
  PetscScalar** a_ = nullptr;
};

// Several dof per pixel: a[j][i] points at the dof values of pixel (i, j), contiguous.
class DMDAReadDOF {
 public:
  DMDAReadDOF(DM dm, Vec v) : dm_(dm), v_(v) { BILEARN_CHECK(DMDAVecGetArrayDOFRead(dm_, v_, &a_)); }
  ~DMDAReadDOF() { DMDAVecRestoreArrayDOFRead(dm_, v_, &a_); }
  DMDAReadDOF(const DMDAReadDOF&) = delete;
  DMDAReadDOF& operator=(const DMDAReadDOF&) = delete;
  const PetscScalar* const* operator[](PetscInt j) const noexcept { return a_[j]; }

 private:
  DM dm_;
  Vec v_;
  const PetscScalar* const* const* a_ = nullptr;
};

// A ghosted copy of a grid vector: update() exchanges the ghosts (collective).
class GhostedVec {
 public:
  explicit GhostedVec(DM dm) : dm_(dm) { BILEARN_CHECK(DMCreateLocalVector(dm_, local_.out())); }
  void update(Vec global) {
    BILEARN_CHECK(DMGlobalToLocalBegin(dm_, global, INSERT_VALUES, local_));
    BILEARN_CHECK(DMGlobalToLocalEnd(dm_, global, INSERT_VALUES, local_));
  }
  Vec local() const noexcept { return local_; }
  DM dm() const noexcept { return dm_; }

 private:
  DM dm_;
  OwnedVec local_;
};

}  // namespace bilearn
