#include "bilearn/krylov/vec_block.hpp"

#include <petscblaslapack.h>

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"

namespace bilearn::krylov {
namespace {
constexpr PetscInt kChunk = 512;  // rows per local GEMM: a few vectors' chunks stay in cache

// Read or read-write access to the local arrays of a list of vectors.
class Arrays {
 public:
  Arrays(const Vec* v, PetscInt n, bool write) : v_(v), n_(n), write_(write), a_(static_cast<size_t>(n)) {
    for (PetscInt i = 0; i < n_; ++i) {
      if (write_)
        BILEARN_CHECK(VecGetArray(v_[i], &a_[static_cast<size_t>(i)]));
      else
        BILEARN_CHECK(VecGetArrayRead(v_[i], const_cast<const PetscScalar**>(&a_[static_cast<size_t>(i)])));
    }
  }
  ~Arrays() {
    for (PetscInt i = 0; i < n_; ++i) {
      if (write_)
        VecRestoreArray(v_[i], &a_[static_cast<size_t>(i)]);
      else
        VecRestoreArrayRead(v_[i], const_cast<const PetscScalar**>(&a_[static_cast<size_t>(i)]));
    }
  }
  Arrays(const Arrays&) = delete;
  Arrays& operator=(const Arrays&) = delete;
  PetscScalar* operator[](PetscInt i) const { return a_[static_cast<size_t>(i)]; }

 private:
  const Vec* v_;
  PetscInt n_;
  bool write_;
  std::vector<PetscScalar*> a_;
};

PetscInt local_size(Vec v) {
  PetscInt n = 0;
  BILEARN_CHECK(VecGetLocalSize(v, &n));
  return n;
}

void gather(const Arrays& a, PetscInt n, PetscInt r0, PetscInt nr, PetscScalar* buf) {
  for (PetscInt i = 0; i < n; ++i) std::copy(a[i] + r0, a[i] + r0 + nr, buf + i * nr);
}

void scatter(const PetscScalar* buf, PetscInt n, PetscInt r0, PetscInt nr, const Arrays& a) {
  for (PetscInt i = 0; i < n; ++i) std::copy(buf + i * nr, buf + (i + 1) * nr, a[i] + r0);
}

// c (m × n, ld m) = beta·c + a (m × k, ld m) · b (k × n, ld ldb)
void gemm(PetscInt m, PetscInt n, PetscInt k, const PetscScalar* a, const PetscScalar* b, PetscInt ldb,
          PetscScalar beta, PetscScalar* c, bool ta = false, PetscInt lda = -1) {
  if (m == 0 || n == 0) return;
  PetscBLASInt bm = static_cast<PetscBLASInt>(m), bn = static_cast<PetscBLASInt>(n), bk = static_cast<PetscBLASInt>(k),
               bldb = static_cast<PetscBLASInt>(std::max<PetscInt>(ldb, 1)),
               blda = static_cast<PetscBLASInt>(lda > 0 ? lda : std::max<PetscInt>(m, 1)),
               bldc = static_cast<PetscBLASInt>(std::max<PetscInt>(m, 1));
  const PetscScalar one = 1.0;
  if (k == 0) {
    for (PetscInt i = 0; i < m * n; ++i) c[i] *= beta;
    return;
  }
  BLASgemm_(ta ? "T" : "N", "N", &bm, &bn, &bk, &one, a, &blda, b, &bldb, &beta, c, &bldc);
}
}  // namespace

void VecBlock::allocate(Vec tmpl, PetscInt k) {
  clear();
  if (k <= 0) return;
  BILEARN_CHECK(VecDuplicateVecs(tmpl, k, &v_));
  k_ = k;
}

void VecBlock::clear() noexcept {
  if (v_) VecDestroyVecs(k_, &v_);
  v_ = nullptr;
  k_ = 0;
}

bool same_layout(Vec a, Vec b) {
  PetscInt na = 0, nb = 0, la = 0, lb = 0;
  BILEARN_CHECK(VecGetSize(a, &na));
  BILEARN_CHECK(VecGetSize(b, &nb));
  BILEARN_CHECK(VecGetLocalSize(a, &la));
  BILEARN_CHECK(VecGetLocalSize(b, &lb));
  return all_ranks(PetscObjectComm((PetscObject)a), na == nb && la == lb);
}

void combine(Vec* out, const Vec* x, PetscInt nx, const Dense& y, PetscInt r0, bool accumulate) {
  const PetscInt nout = y.cols();
  if (nout == 0) return;
  if (nx == 0) {
    if (!accumulate)
      for (PetscInt j = 0; j < nout; ++j) BILEARN_CHECK(VecSet(out[j], 0.0));
    return;
  }
  const PetscInt nloc = local_size(out[0]);
  Arrays xa(x, nx, false), oa(out, nout, true);
  std::vector<PetscScalar> in(static_cast<size_t>(kChunk * nx)), res(static_cast<size_t>(kChunk * nout));
  for (PetscInt s = 0; s < nloc; s += kChunk) {
    const PetscInt nr = std::min(kChunk, nloc - s);
    gather(xa, nx, s, nr, in.data());
    if (accumulate) gather(oa, nout, s, nr, res.data());
    gemm(nr, nout, nx, in.data(), y.data() + r0, y.rows(), accumulate ? 1.0 : 0.0, res.data());
    scatter(res.data(), nout, s, nr, oa);
  }
}

void mult_in_place(Vec* x, const Dense& y) {
  const PetscInt nin = y.rows(), nout = y.cols(), nall = std::max(nin, nout);
  if (nout == 0) return;
  const PetscInt nloc = local_size(x[0]);
  Arrays xa(x, nall, true);
  std::vector<PetscScalar> in(static_cast<size_t>(kChunk * std::max<PetscInt>(nin, 1))),
      res(static_cast<size_t>(kChunk * nout));
  for (PetscInt s = 0; s < nloc; s += kChunk) {
    const PetscInt nr = std::min(kChunk, nloc - s);
    gather(xa, nin, s, nr, in.data());
    gemm(nr, nout, nin, in.data(), y.data(), y.rows(), 0.0, res.data());
    scatter(res.data(), nout, s, nr, xa);
  }
}

Dense inner(const Vec* a, PetscInt na, const Vec* b, PetscInt nb) {
  Dense out(na, nb);
  if (na == 0 || nb == 0) return out;
  const PetscInt nloc = local_size(a[0]);
  {
    Arrays aa(a, na, false), ba(b, nb, false);
    std::vector<PetscScalar> ab(static_cast<size_t>(kChunk * na)), bb(static_cast<size_t>(kChunk * nb));
    for (PetscInt s = 0; s < nloc; s += kChunk) {
      const PetscInt nr = std::min(kChunk, nloc - s);
      gather(aa, na, s, nr, ab.data());
      gather(ba, nb, s, nr, bb.data());
      // out += ab_chunkᵀ bb_chunk
      gemm(na, nb, nr, ab.data(), bb.data(), nr, 1.0, out.data(), true, nr);
    }
  }
  MPI_Comm comm = PetscObjectComm((PetscObject)a[0]);
  std::vector<PetscReal> sum(static_cast<size_t>(na * nb));
  if (MPI_Allreduce(out.data(), sum.data(), static_cast<PetscMPIInt>(na * nb), MPIU_REAL, MPI_SUM, comm) != MPI_SUCCESS)
    throw PetscFailure(PETSC_ERR_MPI, "MPI_Allreduce failed in recycle-space inner products");
  std::copy(sum.begin(), sum.end(), out.data());
  return out;
}

}  // namespace bilearn::krylov
