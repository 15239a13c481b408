#include "krylov/recycle/vec_block.hpp"

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

// dst_j[i] (+)= Σ_l c_j[l] x_l[i] for up to four outputs j over one chunk of rows. Rows go in
// blocks of 8 with the 4×8 accumulators in registers, so every input value loaded feeds four
// multiply-adds; the chunk of every input stays in cache across the output blocks.
typedef PetscScalar v4d __attribute__((vector_size(4 * sizeof(PetscScalar))));

// Unaligned 4-wide load and store (macros: a function returning v4d would change the ABI
// where AVX is not enabled).
#define BILEARN_LOAD4(v, p) __builtin_memcpy(&(v), (p), sizeof(v4d))
#define BILEARN_STORE4(p, v) __builtin_memcpy((p), &(v), sizeof(v4d))

__attribute__((always_inline)) inline void combine_kernel(PetscScalar* const* dst, PetscInt nd, PetscInt len,
                                                          const Arrays& x, PetscInt nx, PetscInt begin,
                                                          const PetscReal* const* c, bool accumulate) {
  constexpr PetscInt B = 8;  // rows per block: two 4-wide vectors per output, 8 accumulators
  PetscInt i0 = 0;
  const v4d zero = {0, 0, 0, 0};
  for (; i0 + B <= len; i0 += B) {
    v4d a0 = zero, b0 = zero, a1 = zero, b1 = zero, a2 = zero, b2 = zero, a3 = zero, b3 = zero;
    if (accumulate) {
      if (nd > 0) BILEARN_LOAD4(a0, dst[0] + i0), BILEARN_LOAD4(b0, dst[0] + i0 + 4);
      if (nd > 1) BILEARN_LOAD4(a1, dst[1] + i0), BILEARN_LOAD4(b1, dst[1] + i0 + 4);
      if (nd > 2) BILEARN_LOAD4(a2, dst[2] + i0), BILEARN_LOAD4(b2, dst[2] + i0 + 4);
      if (nd > 3) BILEARN_LOAD4(a3, dst[3] + i0), BILEARN_LOAD4(b3, dst[3] + i0 + 4);
    }
    for (PetscInt l = 0; l < nx; ++l) {
      const PetscScalar* xl = x[l] + begin + i0;
      v4d lo, hi;
      BILEARN_LOAD4(lo, xl);
      BILEARN_LOAD4(hi, xl + 4);
      const PetscReal c0 = c[0][l], c1 = c[1][l], c2 = c[2][l], c3 = c[3][l];
      a0 += c0 * lo;
      b0 += c0 * hi;
      a1 += c1 * lo;
      b1 += c1 * hi;
      a2 += c2 * lo;
      b2 += c2 * hi;
      a3 += c3 * lo;
      b3 += c3 * hi;
    }
    if (nd > 0) BILEARN_STORE4(dst[0] + i0, a0), BILEARN_STORE4(dst[0] + i0 + 4, b0);
    if (nd > 1) BILEARN_STORE4(dst[1] + i0, a1), BILEARN_STORE4(dst[1] + i0 + 4, b1);
    if (nd > 2) BILEARN_STORE4(dst[2] + i0, a2), BILEARN_STORE4(dst[2] + i0 + 4, b2);
    if (nd > 3) BILEARN_STORE4(dst[3] + i0, a3), BILEARN_STORE4(dst[3] + i0 + 4, b3);
  }
  for (; i0 < len; ++i0)
    for (PetscInt j = 0; j < nd; ++j) {
      PetscScalar acc = accumulate ? dst[j][i0] : 0.0;
      for (PetscInt l = 0; l < nx; ++l) acc += c[j][l] * x[l][begin + i0];
      dst[j][i0] = acc;
    }
}

__attribute__((target("avx2,fma"), optimize("O3"))) void combine_chunk_fma(PetscScalar* const* dst, PetscInt nd,
                                                                           PetscInt len, const Arrays& x, PetscInt nx,
                                                                           PetscInt begin, const PetscReal* const* c,
                                                                           bool accumulate) {
  combine_kernel(dst, nd, len, x, nx, begin, c, accumulate);
}

__attribute__((optimize("O3"))) void combine_chunk_generic(PetscScalar* const* dst, PetscInt nd, PetscInt len,
                                                           const Arrays& x, PetscInt nx, PetscInt begin,
                                                           const PetscReal* const* c, bool accumulate) {
  combine_kernel(dst, nd, len, x, nx, begin, c, accumulate);
}

void combine_chunk(PetscScalar* const* dst, PetscInt nd, PetscInt len, const Arrays& x, PetscInt nx, PetscInt begin,
                   const PetscReal* const* c, bool accumulate) {
  static const bool fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (fma)
    combine_chunk_fma(dst, nd, len, x, nx, begin, c, accumulate);
  else
    combine_chunk_generic(dst, nd, len, x, nx, begin, c, accumulate);
}

// The outputs of y (columns j, rows r0..r0+nx of the coefficients) four at a time.
void combine_all(PetscScalar* const* dst, PetscInt dst_offset, PetscInt len, const Arrays& x, PetscInt nx,
                 PetscInt begin, const Dense& y, PetscInt r0, bool accumulate) {
  static const std::vector<PetscReal> zeros(4096, 0.0);
  const PetscInt nout = y.cols();
  if (nx > static_cast<PetscInt>(zeros.size())) throw NumericalError("recycle block too wide");
  for (PetscInt j = 0; j < nout; j += 4) {
    const PetscInt nd = std::min<PetscInt>(4, nout - j);
    PetscScalar* d[4];
    const PetscReal* c[4];
    for (PetscInt q = 0; q < 4; ++q) {
      d[q] = q < nd ? dst[j + q] + dst_offset : nullptr;
      c[q] = q < nd ? y.col(j + q) + r0 : zeros.data();
    }
    combine_chunk(d, nd, len, x, nx, begin, c, accumulate);
  }
}

// out(i, j) += Σ_r a_i[r] b_j[r] over one chunk of rows: four columns of b per pass, 4-wide
// partial sums (8 rows per step) reduced at the end of the chunk.
__attribute__((always_inline)) inline void inner_kernel(const Arrays& aa, PetscInt na, const Arrays& ba, PetscInt nb,
                                                        PetscInt s, PetscInt len, Dense& out) {
  const v4d zero = {0, 0, 0, 0};
  auto hsum = [](const v4d& v) { return v[0] + v[1] + v[2] + v[3]; };
  const PetscInt len8 = len - len % 8;
  for (PetscInt i = 0; i < na; ++i) {
    const PetscScalar* ai = aa[i] + s;
    for (PetscInt j = 0; j < nb; j += 4) {
      const PetscInt nd = std::min<PetscInt>(4, nb - j);
      const PetscScalar* bj[4];
      for (PetscInt q = 0; q < 4; ++q) bj[q] = ba[j + std::min(q, nd - 1)] + s;
      v4d s0 = zero, s1 = zero, s2 = zero, s3 = zero, t0 = zero, t1 = zero, t2 = zero, t3 = zero;
      for (PetscInt r = 0; r < len8; r += 8) {
        v4d alo, ahi, x;
        BILEARN_LOAD4(alo, ai + r);
        BILEARN_LOAD4(ahi, ai + r + 4);
        BILEARN_LOAD4(x, bj[0] + r);
        s0 += alo * x;
        BILEARN_LOAD4(x, bj[0] + r + 4);
        t0 += ahi * x;
        BILEARN_LOAD4(x, bj[1] + r);
        s1 += alo * x;
        BILEARN_LOAD4(x, bj[1] + r + 4);
        t1 += ahi * x;
        BILEARN_LOAD4(x, bj[2] + r);
        s2 += alo * x;
        BILEARN_LOAD4(x, bj[2] + r + 4);
        t2 += ahi * x;
        BILEARN_LOAD4(x, bj[3] + r);
        s3 += alo * x;
        BILEARN_LOAD4(x, bj[3] + r + 4);
        t3 += ahi * x;
      }
      PetscScalar sum[4] = {hsum(s0 + t0), hsum(s1 + t1), hsum(s2 + t2), hsum(s3 + t3)};
      for (PetscInt r = len8; r < len; ++r)
        for (PetscInt q = 0; q < 4; ++q) sum[q] += ai[r] * bj[q][r];
      for (PetscInt q = 0; q < nd; ++q) out(i, j + q) += sum[q];
    }
  }
}

__attribute__((target("avx2,fma"), optimize("O3"))) void inner_chunk_fma(const Arrays& aa, PetscInt na,
                                                                         const Arrays& ba, PetscInt nb, PetscInt s,
                                                                         PetscInt len, Dense& out) {
  inner_kernel(aa, na, ba, nb, s, len, out);
}

__attribute__((optimize("O3"))) void inner_chunk_generic(const Arrays& aa, PetscInt na, const Arrays& ba, PetscInt nb,
                                                         PetscInt s, PetscInt len, Dense& out) {
  inner_kernel(aa, na, ba, nb, s, len, out);
}

void inner_chunk(const Arrays& aa, PetscInt na, const Arrays& ba, PetscInt nb, PetscInt s, PetscInt len, Dense& out) {
  static const bool fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (fma)
    inner_chunk_fma(aa, na, ba, nb, s, len, out);
  else
    inner_chunk_generic(aa, na, ba, nb, s, len, out);
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
  std::vector<PetscScalar*> dst(static_cast<size_t>(nout));
  for (PetscInt j = 0; j < nout; ++j) dst[static_cast<size_t>(j)] = oa[j];
  for (PetscInt s = 0; s < nloc; s += kChunk)
    combine_all(dst.data(), s, std::min(kChunk, nloc - s), xa, nx, s, y, r0, accumulate);
}

void mult_in_place(Vec* x, const Dense& y) {
  const PetscInt nin = y.rows(), nout = y.cols(), nall = std::max(nin, nout);
  if (nout == 0) return;
  const PetscInt nloc = local_size(x[0]);
  Arrays xa(x, nall, true);
  std::vector<PetscScalar> res(static_cast<size_t>(kChunk * nout));
  std::vector<PetscScalar*> dst(static_cast<size_t>(nout));
  for (PetscInt j = 0; j < nout; ++j) dst[static_cast<size_t>(j)] = res.data() + j * kChunk;
  for (PetscInt s = 0; s < nloc; s += kChunk) {
    const PetscInt len = std::min(kChunk, nloc - s);
    combine_all(dst.data(), 0, len, xa, nin, s, y, 0, false);
    for (PetscInt j = 0; j < nout; ++j) std::copy(res.data() + j * kChunk, res.data() + j * kChunk + len, xa[j] + s);
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

namespace bilearn::krylov {
namespace {

// out[j] += Σ_i y[i] x_j[i] over rows [0, len), four x per pass with 4-wide partial sums.
__attribute__((always_inline)) inline void mdot_kernel(const PetscScalar* y, PetscInt len, PetscInt n,
                                                       const PetscScalar* const* x, PetscScalar* out) {
  constexpr PetscInt kRows = 1024;
  const v4d zero = {0, 0, 0, 0};
  for (PetscInt s = 0; s < len; s += kRows) {
    const PetscInt nr = std::min(kRows, len - s), nr4 = nr - nr % 4;
    const PetscScalar* ys = y + s;
    for (PetscInt j = 0; j < n; j += 4) {
      const PetscInt nd = std::min<PetscInt>(4, n - j);
      const PetscScalar* xj[4];
      for (PetscInt q = 0; q < 4; ++q) xj[q] = x[j + std::min(q, nd - 1)] + s;
      v4d s0 = zero, s1 = zero, s2 = zero, s3 = zero, yv, xv;
      for (PetscInt r = 0; r < nr4; r += 4) {
        BILEARN_LOAD4(yv, ys + r);
        BILEARN_LOAD4(xv, xj[0] + r);
        s0 += yv * xv;
        BILEARN_LOAD4(xv, xj[1] + r);
        s1 += yv * xv;
        BILEARN_LOAD4(xv, xj[2] + r);
        s2 += yv * xv;
        BILEARN_LOAD4(xv, xj[3] + r);
        s3 += yv * xv;
      }
      PetscScalar t[4] = {s0[0] + s0[1] + s0[2] + s0[3], s1[0] + s1[1] + s1[2] + s1[3], s2[0] + s2[1] + s2[2] + s2[3],
                          s3[0] + s3[1] + s3[2] + s3[3]};
      for (PetscInt r = nr4; r < nr; ++r)
        for (PetscInt q = 0; q < 4; ++q) t[q] += ys[r] * xj[q][r];
      for (PetscInt q = 0; q < nd; ++q) out[j + q] += t[q];
    }
  }
}

// y += Σ_j a_j x_j over rows [0, len) in chunks that stay in cache; returns Σ y².
__attribute__((always_inline)) inline PetscReal maxpy_kernel(PetscScalar* y, PetscInt len, PetscInt n,
                                                             const PetscScalar* a, const PetscScalar* const* x) {
  constexpr PetscInt kRows = 1024;
  PetscReal norm2 = 0;
  for (PetscInt s = 0; s < len; s += kRows) {
    const PetscInt nr = std::min(kRows, len - s);
    PetscScalar* __restrict ys = y + s;
    PetscInt j = 0;
    for (; j + 4 <= n; j += 4) {
      const PetscScalar* __restrict x0 = x[j] + s;
      const PetscScalar* __restrict x1 = x[j + 1] + s;
      const PetscScalar* __restrict x2 = x[j + 2] + s;
      const PetscScalar* __restrict x3 = x[j + 3] + s;
      const PetscScalar a0 = a[j], a1 = a[j + 1], a2 = a[j + 2], a3 = a[j + 3];
      for (PetscInt r = 0; r < nr; ++r) ys[r] += a0 * x0[r] + a1 * x1[r] + a2 * x2[r] + a3 * x3[r];
    }
    for (; j < n; ++j) {
      const PetscScalar* __restrict x0 = x[j] + s;
      const PetscScalar a0 = a[j];
      for (PetscInt r = 0; r < nr; ++r) ys[r] += a0 * x0[r];
    }
    PetscReal p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    const PetscInt nr4 = nr - nr % 4;
    for (PetscInt r = 0; r < nr4; r += 4) {
      p0 += ys[r] * ys[r];
      p1 += ys[r + 1] * ys[r + 1];
      p2 += ys[r + 2] * ys[r + 2];
      p3 += ys[r + 3] * ys[r + 3];
    }
    for (PetscInt r = nr4; r < nr; ++r) p0 += ys[r] * ys[r];
    norm2 += (p0 + p1) + (p2 + p3);
  }
  return norm2;
}

__attribute__((target("avx2,fma"), optimize("O3"))) void mdot_fma(const PetscScalar* y, PetscInt len, PetscInt n,
                                                                  const PetscScalar* const* x, PetscScalar* out) {
  mdot_kernel(y, len, n, x, out);
}
__attribute__((optimize("O3"))) void mdot_generic(const PetscScalar* y, PetscInt len, PetscInt n,
                                                  const PetscScalar* const* x, PetscScalar* out) {
  mdot_kernel(y, len, n, x, out);
}
__attribute__((target("avx2,fma"), optimize("O3"))) PetscReal maxpy_fma(PetscScalar* y, PetscInt len, PetscInt n,
                                                                        const PetscScalar* a,
                                                                        const PetscScalar* const* x) {
  return maxpy_kernel(y, len, n, a, x);
}
__attribute__((optimize("O3"))) PetscReal maxpy_generic(PetscScalar* y, PetscInt len, PetscInt n, const PetscScalar* a,
                                                        const PetscScalar* const* x) {
  return maxpy_kernel(y, len, n, a, x);
}

bool have_fma() {
  static const bool fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return fma;
}

}  // namespace

void FusedKernels::reserve(PetscInt n) {
  const size_t m = static_cast<size_t>(std::max<PetscInt>(n, 1)) + 1;
  if (xa_.size() < m) {
    xa_.resize(m);
    sums_.resize(m);
    reduced_.resize(m);
  }
}

void FusedKernels::mdot(Vec y, PetscInt n, const Vec* x, PetscScalar* out) {
  if (static_cast<size_t>(n) > xa_.size()) throw NumericalError("FusedKernels: reserve() was too small");
  PetscInt len = 0;
  BILEARN_CHECK(VecGetLocalSize(y, &len));
  const PetscScalar* ya = nullptr;
  BILEARN_CHECK(VecGetArrayRead(y, &ya));
  for (PetscInt j = 0; j < n; ++j) BILEARN_CHECK(VecGetArrayRead(x[j], &xa_[static_cast<size_t>(j)]));
  std::fill(sums_.begin(), sums_.begin() + n, 0.0);
  if (have_fma())
    mdot_fma(ya, len, n, xa_.data(), sums_.data());
  else
    mdot_generic(ya, len, n, xa_.data(), sums_.data());
  for (PetscInt j = 0; j < n; ++j) BILEARN_CHECK(VecRestoreArrayRead(x[j], &xa_[static_cast<size_t>(j)]));
  BILEARN_CHECK(VecRestoreArrayRead(y, &ya));
  BILEARN_CHECK(PetscLogFlops(2.0 * n * len));
  if (MPI_Allreduce(sums_.data(), out, static_cast<PetscMPIInt>(n), MPIU_SCALAR, MPI_SUM,
                    PetscObjectComm((PetscObject)y)) != MPI_SUCCESS)
    throw PetscFailure(PETSC_ERR_MPI, "MPI_Allreduce failed in a fused inner product");
}

PetscReal FusedKernels::maxpy_norm(Vec y, PetscInt n, const PetscScalar* a, const Vec* x) {
  const PetscReal local = maxpy_local(y, n, a, x);
  PetscReal global = 0;
  if (MPI_Allreduce(&local, &global, 1, MPIU_REAL, MPI_SUM, PetscObjectComm((PetscObject)y)) != MPI_SUCCESS)
    throw PetscFailure(PETSC_ERR_MPI, "MPI_Allreduce failed in a fused norm");
  return global;
}

void FusedKernels::maxpy(Vec y, PetscInt n, const PetscScalar* a, const Vec* x) {
  maxpy_local(y, n, a, x);
}

PetscReal FusedKernels::maxpy_local(Vec y, PetscInt n, const PetscScalar* a, const Vec* x) {
  if (static_cast<size_t>(n) > xa_.size()) throw NumericalError("FusedKernels: reserve() was too small");
  PetscInt len = 0;
  BILEARN_CHECK(VecGetLocalSize(y, &len));
  PetscScalar* ya = nullptr;
  BILEARN_CHECK(VecGetArray(y, &ya));
  for (PetscInt j = 0; j < n; ++j) BILEARN_CHECK(VecGetArrayRead(x[j], &xa_[static_cast<size_t>(j)]));
  PetscReal local = have_fma() ? maxpy_fma(ya, len, n, a, xa_.data()) : maxpy_generic(ya, len, n, a, xa_.data());
  for (PetscInt j = 0; j < n; ++j) BILEARN_CHECK(VecRestoreArrayRead(x[j], &xa_[static_cast<size_t>(j)]));
  BILEARN_CHECK(VecRestoreArray(y, &ya));
  BILEARN_CHECK(PetscLogFlops(2.0 * (n + 1) * len));
  return local;
}

}  // namespace bilearn::krylov
