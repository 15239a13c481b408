#include "bilearn/reg/convolution.hpp"

#include <algorithm>
#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/reg/stencil.hpp"

namespace bilearn {

Convolution::Convolution(const ImageGrid& grid, PetscInt count, PetscInt side)
    : grid_(grid), count_(count), side_(side), radius_(side / 2) {
  PetscInt width = 0;
  BILEARN_CHECK(DMDAGetInfo(grid.dm(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &width,
                            nullptr, nullptr, nullptr, nullptr));
  require(count >= 1, "a filter bank needs at least one filter");
  require(side % 2 == 1 && side <= 2 * width + 1, "filters must have odd side ≤ " + std::to_string(2 * width + 1) +
                                                      " (grid ghost width " + std::to_string(width) + "), got " +
                                                      std::to_string(side));
  require(side <= kMaxSide, "filters must have side ≤ " + std::to_string(kMaxSide));
  require(grid.n() >= side,
          "the image side " + std::to_string(grid.n()) + " is smaller than the filter side " + std::to_string(side));
  const PetscInt n = grid.n(), r = radius_;
  ox0_ = std::max(grid.x0(), r);
  ox1_ = std::max(ox0_, std::min(grid.x0() + grid.nx(), n - r));
  oy0_ = std::max(grid.y0(), r);
  oy1_ = std::max(oy0_, std::min(grid.y0() + grid.ny(), n - r));
  BILEARN_CHECK(DMDACreateCompatibleDMDA(grid.dm(), count, field_dm_.out()));
  BILEARN_CHECK(DMCreateGlobalVector(field_dm_, field_.out()));
  BILEARN_CHECK(DMCreateLocalVector(field_dm_, field_local_.out()));
  pnx_ = grid.nx() + 2 * radius_;
  pny_ = grid.ny() + 2 * radius_;
  planes_.assign(static_cast<size_t>(count * pnx_ * pny_), 0.0);
  rotated_.resize(static_cast<size_t>(count * side * side));
  row_.resize(static_cast<size_t>(std::max(grid.nx(), ox1_ - ox0_)));
}

namespace {
// y[i] (+)= Σ_{a,b<k} c[a·k + b] rows[a][i + b] for i < n: a k×k correlation along one row.
// Eight outputs per step with independent accumulators, so that it vectorises at -O2 (SLP)
// with two or more vector chains (hiding the multiply-add latency),
// and one load/store of y per k² multiply-adds.
template <PetscInt k>
__attribute__((always_inline)) inline void correlate_row(PetscInt n, const PetscReal* __restrict c,
                                                         const PetscReal* const* rows_in, PetscReal* __restrict y,
                                                         bool add) {
  const PetscReal* rows[k];
  for (PetscInt a = 0; a < k; ++a) rows[a] = rows_in[a];
  PetscInt i = 0;
  for (; i + 8 <= n; i += 8) {
    PetscReal s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (PetscInt a = 0; a < k; ++a) {
      const PetscReal* x = rows[a] + i;
      for (PetscInt b = 0; b < k; ++b) {
        const PetscReal cab = c[a * k + b];
        s0 += cab * x[b];
        s1 += cab * x[b + 1];
        s2 += cab * x[b + 2];
        s3 += cab * x[b + 3];
        s4 += cab * x[b + 4];
        s5 += cab * x[b + 5];
        s6 += cab * x[b + 6];
        s7 += cab * x[b + 7];
      }
    }
    PetscReal* yi = y + i;
    if (add) {
      yi[0] += s0, yi[1] += s1, yi[2] += s2, yi[3] += s3, yi[4] += s4, yi[5] += s5, yi[6] += s6, yi[7] += s7;
    } else {
      yi[0] = s0, yi[1] = s1, yi[2] = s2, yi[3] = s3, yi[4] = s4, yi[5] = s5, yi[6] = s6, yi[7] = s7;
    }
  }
  for (; i < n; ++i) {
    PetscReal s = 0;
    for (PetscInt a = 0; a < k; ++a)
      for (PetscInt b = 0; b < k; ++b) s += c[a * k + b] * rows[a][i + b];
    y[i] = add ? y[i] + s : s;
  }
}

// Dispatch on the (odd) filter side; the ghost width limits it to ≤ 5 today, 7..11 are ready.
// Cloned for AVX2+FMA machines (chosen at load time), plain SSE2 otherwise.
__attribute__((target_clones("arch=haswell", "default"))) void correlate_row_any(PetscInt k, PetscInt n,
                                                                                 const PetscReal* c,
                                                                                 const PetscReal* const* rows,
                                                                                 PetscReal* y, bool add) {
  switch (k) {
    case 1:
      return correlate_row<1>(n, c, rows, y, add);
    case 3:
      return correlate_row<3>(n, c, rows, y, add);
    case 5:
      return correlate_row<5>(n, c, rows, y, add);
    case 7:
      return correlate_row<7>(n, c, rows, y, add);
    case 9:
      return correlate_row<9>(n, c, rows, y, add);
    default:
      return correlate_row<11>(n, c, rows, y, add);
  }
}
}  // namespace

void Convolution::forward(Vec x_local, const PetscReal* filters, PetscScalar* out, const PetscScalar* scale) const {
  const PetscInt K = count_, k = side_, T = k * k, r = radius_;
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx(), w = ox1_ - ox0_;
  std::fill(out, out + grid_.local_size() * K, 0.0);
  DMDARead2D x(grid_.dm(), x_local);
  PetscReal* z = row_.data();
  const PetscReal* rows[kMaxSide];
  for (PetscInt j = oy0_; j < oy1_ && w > 0; ++j) {
    PetscScalar* o = out + ((j - y0) * nx + (ox0_ - x0)) * K;
    for (PetscInt a = 0; a < k; ++a) rows[a] = x[j + a - r] + (ox0_ - r);
    for (PetscInt f = 0; f < K; ++f) {
      correlate_row_any(k, w, filters + f * T, rows, z, false);
      if (scale) {
        const PetscScalar* sc = scale + (o - out);
        for (PetscInt i = 0; i < w; ++i) o[i * K + f] = sc[i * K + f] * z[i];
      } else {
        for (PetscInt i = 0; i < w; ++i) o[i * K + f] = z[i];
      }
    }
  }
}

void Convolution::fill_planes() {
  const PetscInt K = count_, r = radius_, n = grid_.n();
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx(), ny = grid_.ny();
  BILEARN_CHECK(DMGlobalToLocalBegin(field_dm_, field_, INSERT_VALUES, field_local_));
  BILEARN_CHECK(DMGlobalToLocalEnd(field_dm_, field_, INSERT_VALUES, field_local_));
  // Planar copy of the outputs within r of the owned block (they are in the ghost region).
  DMDAReadDOF t(field_dm_, field_local_);
  const PetscInt qy0 = std::max(y0 - r, r), qy1 = std::min(y0 + ny + r, n - r);
  const PetscInt qx0 = std::max(x0 - r, r), qx1 = std::min(x0 + nx + r, n - r);
  const PetscInt plane = pnx_ * pny_;
  for (PetscInt oy = qy0; oy < qy1; ++oy)
    for (PetscInt ox = qx0; ox < qx1; ++ox) {
      const PetscScalar* tv = t[oy][ox];
      PetscReal* p = planes_.data() + (oy - y0 + r) * pnx_ + (ox - x0 + r);
      for (PetscInt f = 0; f < K; ++f) p[f * plane] = tv[f];
    }
}

void Convolution::adjoint(const PetscReal* filters, Vec y, bool add) {
  const PetscInt K = count_, k = side_, T = k * k;
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx(), ny = grid_.ny();
  fill_planes();
  // (Cᵀt)(i, j) = Σ_f Σ_{a,b} c_f[a·k + b] t_f(i − b + r, j − a + r) (t_f = 0 where no output
  // exists): a correlation of the planes with the filters rotated by 180°, ĉ[a'·k + b'] =
  // c[(k−1−a')·k + k−1−b'], reading plane rows j − y0 + a' at columns i − x0 + b'.
  for (PetscInt f = 0; f < K; ++f)
    for (PetscInt m = 0; m < T; ++m) rotated_[static_cast<size_t>(f * T + m)] = filters[f * T + (T - 1 - m)];
  DMDAWrite2D out(grid_.dm(), y);
  PetscReal* acc = row_.data();
  const PetscReal* rows[kMaxSide];
  for (PetscInt j = y0; j < y0 + ny; ++j) {
    for (PetscInt f = 0; f < K; ++f) {
      const PetscReal* plane = planes_.data() + f * pnx_ * pny_;
      for (PetscInt a = 0; a < k; ++a) rows[a] = plane + (j - y0 + a) * pnx_;
      correlate_row_any(k, nx, rotated_.data() + f * T, rows, acc, f > 0);
    }
    PetscScalar* yrow = out[j] + x0;
    if (add)
      for (PetscInt i = 0; i < nx; ++i) yrow[i] += acc[i];
    else
      for (PetscInt i = 0; i < nx; ++i) yrow[i] = acc[i];
  }
}

void Convolution::correlate_taps(Vec x_local, const PetscScalar* t, PetscReal* acc) const {
  const PetscInt K = count_, k = side_, T = k * k, r = radius_;
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx();
  DMDARead2D x(grid_.dm(), x_local);
  PetscScalar patch[kMaxSide * kMaxSide];
  for (PetscInt j = oy0_; j < oy1_; ++j)
    for (PetscInt i = ox0_; i < ox1_; ++i) {
      for (PetscInt a = 0; a < k; ++a) {
        const PetscScalar* row = x[j + a - r] + (i - r);
        for (PetscInt b = 0; b < k; ++b) patch[a * k + b] = row[b];
      }
      const PetscScalar* tv = t + ((j - y0) * nx + (i - x0)) * K;
      for (PetscInt f = 0; f < K; ++f) {
        const PetscScalar tf = tv[f];
        PetscReal* af = acc + f * T;
        for (PetscInt m = 0; m < T; ++m) af[m] += tf * patch[m];
      }
    }
}

}  // namespace bilearn
