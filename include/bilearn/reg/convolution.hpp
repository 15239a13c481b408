// A bank of K filters of odd side k applied to grid images by DMDA ghost exchange.
//
// Boundary rule ("valid" correlation): output pixel (i, j) exists only where the filter
// fits entirely inside the image, r ≤ i, j ≤ N − 1 − r (r = (k − 1)/2), and there
//   (C_f x)(i, j) = Σ_{a,b} c_f[a·k + b] · x(i + b − r, j + a − r)      (i column, j row).
// No padding is involved, so C_fᵀ is exact, a constant image is not penalised by zero-mean
// filters at the border, and the result does not depend on the number of ranks.
//
// Outputs live in a K-dof field on the grid (same parallel layout); owned storage is
// out[((j − y0)·nx + (i − x0))·K + f], and entries at non-output pixels are 0 (forward) or
// ignored (adjoint). Work vectors are allocated once, in the constructor. The kernels are
// loops along image rows (unit stride, four outputs per step) so that they vectorise.
#pragma once
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/core/image_grid.hpp"

namespace bilearn {

class Convolution {
 public:
  static constexpr PetscInt kMaxSide = 11;
  // side must be odd and ≤ 2·(grid stencil width) + 1 (InputError otherwise).
  Convolution(const ImageGrid& grid, PetscInt count, PetscInt side);
  Convolution(const Convolution&) = delete;
  Convolution& operator=(const Convolution&) = delete;

  PetscInt count() const noexcept { return count_; }
  PetscInt side() const noexcept { return side_; }
  PetscInt taps() const noexcept { return side_ * side_; }
  PetscInt local_size() const noexcept { return grid_.local_size(); }  // owned pixels
  // Owned output pixels: columns [ox0, ox1), rows [oy0, oy1) (possibly empty).
  PetscInt ox0() const noexcept { return ox0_; }
  PetscInt ox1() const noexcept { return ox1_; }
  PetscInt oy0() const noexcept { return oy0_; }
  PetscInt oy1() const noexcept { return oy1_; }
  const ImageGrid& grid() const noexcept { return grid_; }

  // out = (C_1 x, …, C_K x) on the owned pixels (layout above). x_local: a ghosted local
  // vector of grid.dm() holding x (ghosts up to date). filters: K·k², FilterBank layout.
  // scale (optional, same layout as out): out = scale ⊙ (C x), fused into the same pass.
  void forward(Vec x_local, const PetscReal* filters, PetscScalar* out, const PetscScalar* scale = nullptr) const;

  // The K-dof global field the adjoint reads: fill its owned part (VecArray) and call adjoint.
  Vec field() const noexcept { return field_; }
  // y = Σ_f C_fᵀ t_f, t = field() (overwrites y, or adds to it). Collective (ghost exchange).
  void adjoint(const PetscReal* filters, Vec y, bool add = false);

  // Separable banks (the DCT banks): filter f is the outer product c_f[a·k + b] =
  // basis[p_f·k + a] · basis[q_f·k + b]. After set_separable, forward_separable and
  // adjoint_separable give the same results as forward/adjoint with those filters at
  // k² + K·k instead of K·k² multiply-adds per pixel (convolution_separable.cpp).
  void set_separable(const std::vector<PetscReal>& basis, const std::vector<PetscInt>& pairs);  // pairs: p_f, q_f
  bool separable() const noexcept { return !basis_.empty(); }
  void forward_separable(Vec x_local, PetscScalar* out, const PetscScalar* scale = nullptr) const;
  // basis: another k×k basis with the same pairs (e.g. squared entrywise for diag CᵀDC).
  void adjoint_separable(Vec y, bool add = false, const PetscReal* basis = nullptr);

  // acc[f·k² + m] += Σ_{owned outputs o} t[o][f] · x(o + offset(m)): the derivative of
  // ⟨t, C x⟩ in the filter coefficients (local part; the caller reduces). t: owned layout.
  void correlate_taps(Vec x_local, const PetscScalar* t, PetscReal* acc) const;

 private:
  const ImageGrid& grid_;
  PetscInt count_, side_, radius_;
  PetscInt ox0_ = 0, ox1_ = 0, oy0_ = 0, oy1_ = 0;
  OwnedDM field_dm_;
  OwnedVec field_, field_local_;
  // Forward: one output row of one filter. Adjoint: the field in planar layout, one plane of
  // (nx + 2r)×(ny + 2r) per filter with origin (x0 − r, y0 − r), zero where no output exists
  // (so the gather needs no bounds tests), and one row of the result.
  mutable std::vector<PetscReal> row_;
  std::vector<PetscReal> planes_;
  std::vector<PetscReal> rotated_;      // the filters rotated by 180° (adjoint as a correlation)
  std::vector<PetscReal> basis_;        // separable banks: k×k basis rows
  std::vector<PetscInt> pairs_;         // (p_f, q_f)
  mutable std::vector<PetscReal> sep_;  // separable work: k rows of partial sums
  PetscInt pnx_ = 0, pny_ = 0;
  void fill_planes();  // field() → planes_ (ghost exchange)
};

}  // namespace bilearn
