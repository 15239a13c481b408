#include "krylov/recycle/dense.hpp"

#include <petscblaslapack.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {
namespace {
PetscBLASInt blas(PetscInt n) {
  PetscBLASInt b = 0;
  BILEARN_CHECK(PetscBLASIntCast(n, &b));
  return b;
}
}  // namespace

Dense Dense::identity(PetscInt n) {
  Dense d(n, n);
  for (PetscInt i = 0; i < n; ++i) d(i, i) = 1.0;
  return d;
}

void Dense::resize(PetscInt rows, PetscInt cols) {
  rows_ = rows;
  cols_ = cols;
  a_.assign(static_cast<size_t>(rows * cols), 0.0);
}

void Dense::set_zero() {
  std::fill(a_.begin(), a_.end(), 0.0);
}

Dense Dense::block(PetscInt r0, PetscInt c0, PetscInt nr, PetscInt nc) const {
  Dense b(nr, nc);
  for (PetscInt j = 0; j < nc; ++j)
    for (PetscInt i = 0; i < nr; ++i) b(i, j) = (*this)(r0 + i, c0 + j);
  return b;
}

void Dense::set_block(PetscInt r0, PetscInt c0, const Dense& b) {
  for (PetscInt j = 0; j < b.cols(); ++j)
    for (PetscInt i = 0; i < b.rows(); ++i) (*this)(r0 + i, c0 + j) = b(i, j);
}

Dense Dense::transpose() const {
  Dense t(cols_, rows_);
  for (PetscInt j = 0; j < cols_; ++j)
    for (PetscInt i = 0; i < rows_; ++i) t(j, i) = (*this)(i, j);
  return t;
}

Dense Dense::columns(const std::vector<PetscInt>& idx) const {
  Dense c(rows_, static_cast<PetscInt>(idx.size()));
  for (size_t j = 0; j < idx.size(); ++j)
    for (PetscInt i = 0; i < rows_; ++i) c(i, static_cast<PetscInt>(j)) = (*this)(i, idx[j]);
  return c;
}

PetscReal Dense::frobenius() const {
  PetscReal s = 0;
  for (PetscReal v : a_) s += v * v;
  return std::sqrt(s);
}

Dense multiply(const Dense& a, const Dense& b, bool ta, bool tb) {
  const PetscInt m = ta ? a.cols() : a.rows();
  const PetscInt k = ta ? a.rows() : a.cols();
  const PetscInt kb = tb ? b.cols() : b.rows();
  const PetscInt n = tb ? b.rows() : b.cols();
  if (k != kb) throw NumericalError("dense multiply: inner dimensions differ");
  Dense c(m, n);
  if (m == 0 || n == 0 || k == 0) return c;
  PetscBLASInt bm = blas(m), bn = blas(n), bk = blas(k), lda = blas(std::max<PetscInt>(1, a.rows())),
               ldb = blas(std::max<PetscInt>(1, b.rows())), ldc = blas(m);
  const PetscScalar one = 1.0, zero = 0.0;
  BLASgemm_(ta ? "T" : "N", tb ? "T" : "N", &bm, &bn, &bk, &one, a.data(), &lda, b.data(), &ldb, &zero, c.data(), &ldc);
  return c;
}

Dense congruence(const Dense& a, const Dense& b) {
  Dense c = multiply(a, multiply(b, a), true, false);
  for (PetscInt j = 0; j < c.cols(); ++j)
    for (PetscInt i = 0; i < j; ++i) {
      const PetscReal v = 0.5 * (c(i, j) + c(j, i));
      c(i, j) = c(j, i) = v;
    }
  return c;
}

SymEig sym_eig(const Dense& a) {
  SymEig out;
  const PetscInt n = a.rows();
  out.vectors = a;
  out.values.assign(static_cast<size_t>(n), 0.0);
  if (n == 0) return out;
  PetscBLASInt bn = blas(n), lwork = -1, info = 0;
  PetscScalar query = 0;
  LAPACKsyev_("V", "L", &bn, out.vectors.data(), &bn, out.values.data(), &query, &lwork, &info);
  lwork = blas(static_cast<PetscInt>(query));
  std::vector<PetscScalar> work(static_cast<size_t>(std::max<PetscBLASInt>(lwork, 1)));
  LAPACKsyev_("V", "L", &bn, out.vectors.data(), &bn, out.values.data(), work.data(), &lwork, &info);
  if (info != 0) throw NumericalError("dsyev failed (info " + std::to_string(info) + ")");
  return out;
}

SymEig sym_gen_eig(const Dense& a, const Dense& b) {
  SymEig out;
  const PetscInt n = a.rows();
  out.vectors = a;
  Dense bb = b;
  out.values.assign(static_cast<size_t>(n), 0.0);
  if (n == 0) return out;
  PetscBLASInt itype = 1, bn = blas(n), lwork = -1, info = 0;
  PetscScalar query = 0;
  LAPACKsygv_(&itype, "V", "L", &bn, out.vectors.data(), &bn, bb.data(), &bn, out.values.data(), &query, &lwork, &info);
  lwork = blas(static_cast<PetscInt>(query));
  std::vector<PetscScalar> work(static_cast<size_t>(std::max<PetscBLASInt>(lwork, 1)));
  LAPACKsygv_(&itype, "V", "L", &bn, out.vectors.data(), &bn, bb.data(), &bn, out.values.data(), work.data(), &lwork,
              &info);
  if (info > n) throw NumericalError("dsygv: B is not positive definite");
  if (info != 0) throw NumericalError("dsygv failed (info " + std::to_string(info) + ")");
  return out;
}

Svd svd_right(const Dense& a) {
  Svd out;
  const PetscInt m = a.rows(), n = a.cols();
  out.vt = Dense(n, n);
  out.values.assign(static_cast<size_t>(std::min(m, n)), 0.0);
  if (n == 0) return out;
  if (m == 0) {
    out.vt = Dense::identity(n);
    return out;
  }
  Dense work_a = a;
  PetscBLASInt bm = blas(m), bn = blas(n), lda = blas(m), ldu = 1, ldvt = blas(n), lwork = -1, info = 0;
  PetscScalar query = 0, udummy = 0;
  LAPACKgesvd_("N", "A", &bm, &bn, work_a.data(), &lda, out.values.data(), &udummy, &ldu, out.vt.data(), &ldvt, &query,
               &lwork, &info);
  lwork = blas(static_cast<PetscInt>(query));
  std::vector<PetscScalar> work(static_cast<size_t>(std::max<PetscBLASInt>(lwork, 1)));
  LAPACKgesvd_("N", "A", &bm, &bn, work_a.data(), &lda, out.values.data(), &udummy, &ldu, out.vt.data(), &ldvt,
               work.data(), &lwork, &info);
  if (info != 0) throw NumericalError("dgesvd failed (info " + std::to_string(info) + ")");
  return out;
}

}  // namespace bilearn::krylov
