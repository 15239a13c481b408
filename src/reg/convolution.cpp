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
  transposed_.resize(static_cast<size_t>(count * side * side));
}

void Convolution::forward(Vec x_local, const PetscReal* filters, PetscScalar* out) const {
  const PetscInt K = count_, k = side_, T = k * k, r = radius_;
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx();
  std::fill(out, out + grid_.local_size() * K, 0.0);
  DMDARead2D x(grid_.dm(), x_local);
  PetscScalar patch[kMaxSide * kMaxSide];
  for (PetscInt j = oy0_; j < oy1_; ++j)
    for (PetscInt i = ox0_; i < ox1_; ++i) {
      for (PetscInt a = 0; a < k; ++a) {
        const PetscScalar* row = x[j + a - r] + (i - r);
        for (PetscInt b = 0; b < k; ++b) patch[a * k + b] = row[b];
      }
      PetscScalar* o = out + ((j - y0) * nx + (i - x0)) * K;
      for (PetscInt f = 0; f < K; ++f) {
        const PetscReal* c = filters + f * T;
        PetscScalar s = 0;
        for (PetscInt m = 0; m < T; ++m) s += c[m] * patch[m];
        o[f] = s;
      }
    }
}

void Convolution::adjoint(const PetscReal* filters, Vec y, bool add) {
  const PetscInt K = count_, k = side_, T = k * k, r = radius_, n = grid_.n();
  for (PetscInt f = 0; f < K; ++f)
    for (PetscInt m = 0; m < T; ++m) transposed_[static_cast<size_t>(m * K + f)] = filters[f * T + m];
  BILEARN_CHECK(DMGlobalToLocalBegin(field_dm_, field_, INSERT_VALUES, field_local_));
  BILEARN_CHECK(DMGlobalToLocalEnd(field_dm_, field_, INSERT_VALUES, field_local_));
  DMDAReadDOF t(field_dm_, field_local_);
  DMDAWrite2D out(grid_.dm(), y);
  const PetscReal* ct = transposed_.data();
  // (Cᵀt)(i, j) = Σ_{a,b} Σ_f c_f[a·k + b] t_f(i − b + r, j − a + r) over outputs that
  // exist: r ≤ j − a + r ≤ n − 1 − r, i.e. a ∈ [j − n + 1 + 2r, j] ∩ [0, k − 1] (same for b).
  for (PetscInt j = grid_.y0(); j < grid_.y0() + grid_.ny(); ++j) {
    const PetscInt a0 = std::max<PetscInt>(0, j - n + 1 + 2 * r), a1 = std::min(k - 1, j);
    for (PetscInt i = grid_.x0(); i < grid_.x0() + grid_.nx(); ++i) {
      const PetscInt b0 = std::max<PetscInt>(0, i - n + 1 + 2 * r), b1 = std::min(k - 1, i);
      PetscScalar s = 0;
      for (PetscInt a = a0; a <= a1; ++a) {
        const PetscScalar* const* trow = t[j - a + r];
        for (PetscInt b = b0; b <= b1; ++b) {
          const PetscScalar* tv = trow[i - b + r];
          const PetscReal* c = ct + (a * k + b) * K;
          for (PetscInt f = 0; f < K; ++f) s += c[f] * tv[f];
        }
      }
      out[j][i] = add ? out[j][i] + s : s;
    }
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
