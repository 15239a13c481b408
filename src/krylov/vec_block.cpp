#include "bilearn/krylov/vec_block.hpp"

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"

namespace bilearn::krylov {
namespace {
constexpr PetscInt kChunk = 1024;  // rows per block: the chunks of all vectors of a cycle stay in L2

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

// dst[i] (+)= Σ_l c[l·ldc] x[l][i] over one chunk of rows, four inputs per pass (the chunk of
// every input stays in cache across the outputs; the loops vectorise).
__attribute__((target_clones("avx2", "default"))) void axpy_chunk(PetscScalar* __restrict dst, PetscInt len,
                                                                  const Arrays& x, PetscInt nx, PetscInt begin,
                                                                  const PetscReal* c, bool accumulate) {
  PetscInt l = 0;
  if (!accumulate) {
    if (nx == 0) {
      std::fill(dst, dst + len, 0.0);
      return;
    }
    const PetscScalar* __restrict x0 = x[0] + begin;
    const PetscReal c0 = c[0];
    for (PetscInt i = 0; i < len; ++i) dst[i] = c0 * x0[i];
    l = 1;
  }
  for (; l + 4 <= nx; l += 4) {
    const PetscScalar* __restrict x0 = x[l] + begin;
    const PetscScalar* __restrict x1 = x[l + 1] + begin;
    const PetscScalar* __restrict x2 = x[l + 2] + begin;
    const PetscScalar* __restrict x3 = x[l + 3] + begin;
    const PetscReal c0 = c[l], c1 = c[l + 1], c2 = c[l + 2], c3 = c[l + 3];
    for (PetscInt i = 0; i < len; ++i) dst[i] += c0 * x0[i] + c1 * x1[i] + c2 * x2[i] + c3 * x3[i];
  }
  for (; l < nx; ++l) {
    const PetscScalar* __restrict x0 = x[l] + begin;
    const PetscReal c0 = c[l];
    for (PetscInt i = 0; i < len; ++i) dst[i] += c0 * x0[i];
  }
}

// out(i, j) += Σ_r a_i[r] b_j[r] over one chunk of rows, four columns of b per pass.
__attribute__((target_clones("avx2", "default"))) void inner_chunk(const Arrays& aa, PetscInt na, const Arrays& ba,
                                                                   PetscInt nb, PetscInt s, PetscInt len, Dense& out) {
  for (PetscInt i = 0; i < na; ++i) {
    const PetscScalar* __restrict ai = aa[i] + s;
    PetscInt j = 0;
    for (; j + 4 <= nb; j += 4) {
      const PetscScalar* __restrict b0 = ba[j] + s;
      const PetscScalar* __restrict b1 = ba[j + 1] + s;
      const PetscScalar* __restrict b2 = ba[j + 2] + s;
      const PetscScalar* __restrict b3 = ba[j + 3] + s;
      PetscScalar s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (PetscInt r = 0; r < len; ++r) {
        s0 += ai[r] * b0[r];
        s1 += ai[r] * b1[r];
        s2 += ai[r] * b2[r];
        s3 += ai[r] * b3[r];
      }
      out(i, j) += s0;
      out(i, j + 1) += s1;
      out(i, j + 2) += s2;
      out(i, j + 3) += s3;
    }
    for (; j < nb; ++j) {
      const PetscScalar* __restrict b0 = ba[j] + s;
      PetscScalar s0 = 0;
      for (PetscInt r = 0; r < len; ++r) s0 += ai[r] * b0[r];
      out(i, j) += s0;
    }
  }
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
  const PetscInt nloc = local_size(out[0]);
  Arrays xa(x, nx, false), oa(out, nout, true);
  for (PetscInt s = 0; s < nloc; s += kChunk) {
    const PetscInt len = std::min(kChunk, nloc - s);
    for (PetscInt j = 0; j < nout; ++j) axpy_chunk(oa[j] + s, len, xa, nx, s, y.col(j) + r0, accumulate);
  }
}

void mult_in_place(Vec* x, const Dense& y) {
  const PetscInt nin = y.rows(), nout = y.cols(), nall = std::max(nin, nout);
  if (nout == 0) return;
  const PetscInt nloc = local_size(x[0]);
  Arrays xa(x, nall, true);
  std::vector<PetscScalar> res(static_cast<size_t>(kChunk * nout));
  for (PetscInt s = 0; s < nloc; s += kChunk) {
    const PetscInt len = std::min(kChunk, nloc - s);
    for (PetscInt j = 0; j < nout; ++j) axpy_chunk(res.data() + j * len, len, xa, nin, s, y.col(j), false);
    for (PetscInt j = 0; j < nout; ++j) std::copy(res.data() + j * len, res.data() + (j + 1) * len, xa[j] + s);
  }
}

Dense inner(const Vec* a, PetscInt na, const Vec* b, PetscInt nb) {
  Dense out(na, nb);
  if (na == 0 || nb == 0) return out;
  const PetscInt nloc = local_size(a[0]);
  {
    Arrays aa(a, na, false), ba(b, nb, false);
    for (PetscInt s = 0; s < nloc; s += kChunk) inner_chunk(aa, na, ba, nb, s, std::min(kChunk, nloc - s), out);
  }
  MPI_Comm comm = PetscObjectComm((PetscObject)a[0]);
  std::vector<PetscReal> sum(static_cast<size_t>(na * nb));
  if (MPI_Allreduce(out.data(), sum.data(), static_cast<PetscMPIInt>(na * nb), MPIU_REAL, MPI_SUM, comm) != MPI_SUCCESS)
    throw PetscFailure(PETSC_ERR_MPI, "MPI_Allreduce failed in recycle-space inner products");
  std::copy(sum.begin(), sum.end(), out.data());
  return out;
}

}  // namespace bilearn::krylov
