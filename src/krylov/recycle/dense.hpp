// Small dense matrices (column-major, real) and the LAPACK calls the recycle-space selection
// needs, through PETSc's BLAS/LAPACK bindings (dsyev, dsygv, dgesvd; PETSc 3.18 does not
// expose dsyevr/dsygvd). Sizes are k + m (tens to a few hundred): no parallelism here, every
// rank computes the same small problem from the same reduced numbers.
#pragma once
#include <petscsys.h>

#include <vector>

namespace bilearn::krylov {

class Dense {
 public:
  Dense() = default;
  Dense(PetscInt rows, PetscInt cols) : rows_(rows), cols_(cols), a_(static_cast<size_t>(rows * cols), 0.0) {}
  static Dense identity(PetscInt n);

  PetscInt rows() const noexcept { return rows_; }
  PetscInt cols() const noexcept { return cols_; }
  PetscReal& operator()(PetscInt i, PetscInt j) { return a_[static_cast<size_t>(i + j * rows_)]; }
  PetscReal operator()(PetscInt i, PetscInt j) const { return a_[static_cast<size_t>(i + j * rows_)]; }
  PetscReal* data() noexcept { return a_.data(); }
  const PetscReal* data() const noexcept { return a_.data(); }
  PetscReal* col(PetscInt j) noexcept { return a_.data() + j * rows_; }
  const PetscReal* col(PetscInt j) const noexcept { return a_.data() + j * rows_; }

  void resize(PetscInt rows, PetscInt cols);  // contents zeroed
  void set_zero();
  Dense block(PetscInt r0, PetscInt c0, PetscInt nr, PetscInt nc) const;
  void set_block(PetscInt r0, PetscInt c0, const Dense& b);
  Dense transpose() const;
  // Keeps columns idx (in that order).
  Dense columns(const std::vector<PetscInt>& idx) const;
  PetscReal frobenius() const;

 private:
  PetscInt rows_ = 0, cols_ = 0;
  std::vector<PetscReal> a_;
};

// C = op(A) op(B) (BLAS dgemm).
Dense multiply(const Dense& a, const Dense& b, bool ta = false, bool tb = false);
// Aᵀ B A, symmetrised.
Dense congruence(const Dense& a, const Dense& b);

// Symmetric eigendecomposition A = Q diag(w) Qᵀ, w ascending (dsyev).
struct SymEig {
  std::vector<PetscReal> values;
  Dense vectors;
};
SymEig sym_eig(const Dense& a);

// Generalised symmetric-definite A y = θ B y, B SPD (dsygv, itype 1). Throws NumericalError if
// B is not positive definite. Vectors are B-orthonormal.
SymEig sym_gen_eig(const Dense& a, const Dense& b);

// Thin SVD A = U diag(s) Vᵀ with s descending; vt is the full n×n Vᵀ (dgesvd, jobvt 'A').
struct Svd {
  std::vector<PetscReal> values;  // min(m, n)
  Dense vt;                       // n × n
};
Svd svd_right(const Dense& a);

}  // namespace bilearn::krylov
