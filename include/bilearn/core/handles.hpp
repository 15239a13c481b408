// Owning RAII handles over PETSc objects: one template, one alias per PETSc type.
#pragma once
#include <petscdm.h>
#include <petscdmda.h>
#include <petscis.h>
#include <petscksp.h>
#include <petsctao.h>
#include <petscviewer.h>

#include <utility>

namespace bilearn {

template <class T, PetscErrorCode (*Destroy)(T*)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T raw) : raw_(raw) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : raw_(std::exchange(o.raw_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      raw_ = std::exchange(o.raw_, nullptr);
    }
    return *this;
  }
  ~Handle() { reset(); }
  T get() const noexcept { return raw_; }
  operator T() const noexcept { return raw_; }  // pass straight to PETSc calls
  T* out() {                                    // for Create functions: VecCreate(comm, v.out())
    reset();
    return &raw_;
  }
  T release() noexcept { return std::exchange(raw_, nullptr); }
  explicit operator bool() const noexcept { return raw_ != nullptr; }
  void reset() noexcept {
    if (raw_) Destroy(&raw_);
    raw_ = nullptr;
  }

 private:
  T raw_ = nullptr;
};

using OwnedVec = Handle<Vec, VecDestroy>;
using OwnedMat = Handle<Mat, MatDestroy>;
using OwnedKSP = Handle<KSP, KSPDestroy>;
using OwnedPC = Handle<PC, PCDestroy>;
using OwnedTao = Handle<Tao, TaoDestroy>;
using OwnedTaoLineSearch = Handle<TaoLineSearch, TaoLineSearchDestroy>;
using OwnedIS = Handle<IS, ISDestroy>;
using OwnedDM = Handle<DM, DMDestroy>;
using OwnedViewer = Handle<PetscViewer, PetscViewerDestroy>;
using OwnedRandom = Handle<PetscRandom, PetscRandomDestroy>;
using OwnedScatter = Handle<VecScatter, VecScatterDestroy>;

// Read access to a Vec's local array for the lifetime of the object.
class ConstVecArray {
 public:
  explicit ConstVecArray(Vec v);
  ~ConstVecArray();
  ConstVecArray(const ConstVecArray&) = delete;
  ConstVecArray& operator=(const ConstVecArray&) = delete;
  const PetscScalar* data() const noexcept { return a_; }
  const PetscScalar& operator[](PetscInt i) const noexcept { return a_[i]; }

 private:
  Vec v_;
  const PetscScalar* a_ = nullptr;
};

// Read-write access to a Vec's local array for the lifetime of the object.
class VecArray {
 public:
  explicit VecArray(Vec v);
  ~VecArray();
  VecArray(const VecArray&) = delete;
  VecArray& operator=(const VecArray&) = delete;
  PetscScalar* data() const noexcept { return a_; }
  PetscScalar& operator[](PetscInt i) const noexcept { return a_[i]; }

 private:
  Vec v_;
  PetscScalar* a_ = nullptr;
};

}  // namespace bilearn
