// A block of k vectors allocated once (VecDuplicateVecs) and reused, plus the block
// operations the recycle space needs: linear combinations X·Y through VecMAXPY and an in-place
// X ← X·Y on the local arrays (no communication, no allocation beyond a small row buffer).
#pragma once
#include <petscvec.h>

#include <vector>

#include "krylov/recycle/dense.hpp"

namespace bilearn::krylov {

class VecBlock {
 public:
  VecBlock() = default;
  ~VecBlock() { clear(); }
  VecBlock(const VecBlock&) = delete;
  VecBlock& operator=(const VecBlock&) = delete;

  void allocate(Vec tmpl, PetscInt k);  // frees what was there
  void clear() noexcept;
  bool allocated() const noexcept { return v_ != nullptr; }
  PetscInt capacity() const noexcept { return k_; }
  Vec* data() noexcept { return v_; }
  const Vec* data() const noexcept { return v_; }
  Vec operator[](PetscInt i) const noexcept { return v_[i]; }
  void swap_columns(PetscInt i, PetscInt j) noexcept { std::swap(v_[i], v_[j]); }
  void swap(VecBlock& o) noexcept {
    std::swap(v_, o.v_);
    std::swap(k_, o.k_);
  }

 private:
  Vec* v_ = nullptr;
  PetscInt k_ = 0;
};

// True on every rank if a and b have the same global size and the same local size on every rank.
bool same_layout(Vec a, Vec b);

// out[j] (+)= Σ_i x[i]·y(r0 + i, j) for j < y.cols(), i < nx, blocked over chunks of
// rows (each vector is read once). Vectors in out must not alias x. Not collective.
void combine(Vec* out, const Vec* x, PetscInt nx, const Dense& y, PetscInt r0, bool accumulate);

// x[0..y.cols()) ← x[0..y.rows()) · y in place on the local arrays (x must hold
// max(rows, cols) vectors). Not collective.
void mult_in_place(Vec* x, const Dense& y);

// aᵀb (na × nb) with one MPI reduction. Collective.
Dense inner(const Vec* a, PetscInt na, const Vec* b, PetscInt nb);

}  // namespace bilearn::krylov

namespace bilearn::krylov {

// The two reductions of a recycled Krylov iteration as single passes over the local arrays,
// without allocation (buffers sized once by reserve()):
//   mdot:       out[j] = x_jᵀ y for j < n (y read once; one MPI reduction)
//   maxpy_norm: y += Σ_j a_j x_j (y read and written once), returning ‖y‖² (one reduction)
// PETSc's VecMDot/VecMAXPY stream y once per group of four vectors.
class FusedKernels {
 public:
  void reserve(PetscInt n);  // largest n used later
  void mdot(Vec y, PetscInt n, const Vec* x, PetscScalar* out);
  PetscReal maxpy_norm(Vec y, PetscInt n, const PetscScalar* a, const Vec* x);
  void maxpy(Vec y, PetscInt n, const PetscScalar* a, const Vec* x);  // no norm, not collective

 private:
  PetscReal maxpy_local(Vec y, PetscInt n, const PetscScalar* a, const Vec* x);  // returns the local ‖y‖²
  std::vector<const PetscScalar*> xa_;
  std::vector<PetscScalar> sums_, reduced_;
};

}  // namespace bilearn::krylov
