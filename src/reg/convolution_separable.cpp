// Separable filter banks: c_f[a·k + b] = u_p(a) u_q(b) with (p, q) = pairs_f, u_p = basis row p.
//   forward:  V_p(j, ·) = Σ_a u_p(a) x(·, j + a − r)            (k² per column)
//             (C_f x)(i, j) = Σ_b u_q(b) V_p(i + b − r, j)      (K·k per output)
//   adjoint:  W_p(·, oy) = Σ_{f: p_f = p} Σ_b u_q(b) t_f(· − b + r, oy)   (K·k per pixel)
//             (Σ_f C_fᵀ t_f)(i, j) = Σ_a Σ_p u_p(a) W_p(i, j − a + r)    (k² per pixel)
// Same boundary rule as convolution.hpp (the planes are zero where no output exists).
#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/reg/convolution.hpp"
#include "bilearn/reg/stencil.hpp"

namespace bilearn {
namespace {
// y[i] += c · x[i], four at a time so that it vectorises at -O2.
inline void axpy(PetscInt n, PetscReal c, const PetscReal* __restrict x, PetscReal* __restrict y) {
  PetscInt i = 0;
  for (; i + 4 <= n; i += 4) {
    y[i] += c * x[i];
    y[i + 1] += c * x[i + 1];
    y[i + 2] += c * x[i + 2];
    y[i + 3] += c * x[i + 3];
  }
  for (; i < n; ++i) y[i] += c * x[i];
}
}  // namespace

void Convolution::set_separable(const std::vector<PetscReal>& basis, const std::vector<PetscInt>& pairs) {
  const PetscInt k = side_;
  require(static_cast<PetscInt>(basis.size()) == k * k && static_cast<PetscInt>(pairs.size()) == 2 * count_,
          "separable filter bank: basis or pairs of the wrong size");
  for (PetscInt v : pairs) require(v >= 0 && v < k, "separable filter bank: basis index out of range");
  basis_ = basis;
  pairs_ = pairs;
  const PetscInt r = radius_;
  const size_t forward = static_cast<size_t>(k * (std::max<PetscInt>(ox1_ - ox0_, 0) + 2 * r));
  const size_t adjoint = static_cast<size_t>(k * (grid_.ny() + 2 * r) * grid_.nx());
  sep_.assign(std::max(forward, adjoint), 0.0);
}

void Convolution::forward_separable(Vec x_local, PetscScalar* out, const PetscScalar* scale) const {
  const PetscInt K = count_, k = side_, r = radius_;
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx(), w = ox1_ - ox0_, wv = w + 2 * r;
  std::fill(out, out + grid_.local_size() * K, 0.0);
  DMDARead2D x(grid_.dm(), x_local);
  PetscReal* z = row_.data();
  for (PetscInt j = oy0_; j < oy1_ && w > 0; ++j) {
    // V_p over columns ox0 − r … ox1 + r − 1 (inside the image: outputs exist in this row).
    std::fill(sep_.begin(), sep_.begin() + k * wv, 0.0);
    for (PetscInt p = 0; p < k; ++p)
      for (PetscInt a = 0; a < k; ++a) axpy(wv, basis_[p * k + a], x[j + a - r] + (ox0_ - r), sep_.data() + p * wv);
    PetscScalar* o = out + ((j - y0) * nx + (ox0_ - x0)) * K;
    for (PetscInt f = 0; f < K; ++f) {
      const PetscReal* v = sep_.data() + pairs_[2 * f] * wv;
      const PetscReal* u = basis_.data() + pairs_[2 * f + 1] * k;
      std::fill(z, z + w, 0.0);
      for (PetscInt b = 0; b < k; ++b) axpy(w, u[b], v + b, z);
      if (scale) {
        const PetscScalar* sc = scale + (o - out);
        for (PetscInt i = 0; i < w; ++i) o[i * K + f] = sc[i * K + f] * z[i];
      } else {
        for (PetscInt i = 0; i < w; ++i) o[i * K + f] = z[i];
      }
    }
  }
}

void Convolution::adjoint_separable(Vec y, bool add, const PetscReal* basis) {
  const PetscReal* ub = basis ? basis : basis_.data();
  const PetscInt K = count_, k = side_, r = radius_;
  const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx(), ny = grid_.ny(), rows = ny + 2 * r;
  fill_planes();
  // W_p(i, R) for the plane rows R (output row y0 − r + R): plane column of output column
  // i − b + r is i − x0 + 2r − b (relative to the plane origin x0 − r).
  std::fill(sep_.begin(), sep_.begin() + k * rows * nx, 0.0);
  for (PetscInt f = 0; f < K; ++f) {
    const PetscReal* plane = planes_.data() + f * pnx_ * pny_;
    const PetscReal* u = ub + pairs_[2 * f + 1] * k;
    PetscReal* wp = sep_.data() + pairs_[2 * f] * rows * nx;
    for (PetscInt R = 0; R < rows; ++R)
      for (PetscInt b = 0; b < k; ++b) axpy(nx, u[b], plane + R * pnx_ + 2 * r - b, wp + R * nx);
  }
  DMDAWrite2D out(grid_.dm(), y);
  PetscReal* acc = row_.data();
  for (PetscInt j = y0; j < y0 + ny; ++j) {
    std::fill(acc, acc + nx, 0.0);
    // Output row j − a + r is plane row j − y0 + 2r − a.
    for (PetscInt p = 0; p < k; ++p)
      for (PetscInt a = 0; a < k; ++a) axpy(nx, ub[p * k + a], sep_.data() + (p * rows + j - y0 + 2 * r - a) * nx, acc);
    PetscScalar* yrow = out[j] + x0;
    if (add)
      for (PetscInt i = 0; i < nx; ++i) yrow[i] += acc[i];
    else
      for (PetscInt i = 0; i < nx; ++i) yrow[i] = acc[i];
  }
}

}  // namespace bilearn
