// Gaussian blur on the grid: (A x)(r, c) = Σ_{|dy|,|dx| ≤ R} w(dy, dx) x(r + dy, c + dx) with
// w(dy, dx) ∝ exp(−(dx² + dy²)/(2σ²)), Σ w = 1 over the (2R+1)² taps. Boundary: "zero"
// drops taps outside the image; "reflexive" mirrors them about the image edge
// (x(−1) = x(0), x(N) = x(N−1), half-sample symmetric), so constants are preserved.
// Assembled as MATMPIAIJ: rows and columns in the grid's PETSc (DMDA) ordering, each rank
// builds only its own rows, twice (count for exact preallocation, then fill).
//
// Options: -blur_sigma σ (pixels, default 1.5), -blur_radius R (default min(⌈3σ⌉, N−1)),
//          -blur_boundary reflexive|zero (default reflexive).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/problem/operators.hpp"

namespace bilearn {
namespace {

struct BlurOptions {
  PetscReal sigma = 1.5;
  PetscInt radius = 0;
  bool reflexive = true;
};

BlurOptions read_blur_options(MPI_Comm comm, PetscInt n) {
  BlurOptions o;
  OptionsBlock block(comm, "", "Blur forward model (-problem blur)");
  o.sigma = block.real("-blur_sigma", "standard deviation of the Gaussian PSF in pixels", o.sigma);
  if (!(o.sigma > 0)) {
    std::ostringstream msg;
    msg << "-blur_sigma must be positive, got " << o.sigma;
    throw InputError(msg.str());
  }
  const PetscReal three_sigma = std::ceil(3 * o.sigma);
  const PetscInt def = three_sigma < static_cast<PetscReal>(n - 1) ? static_cast<PetscInt>(three_sigma) : n - 1;
  o.radius = block.integer("-blur_radius", "PSF half-width in pixels (default min(ceil(3 sigma), N-1))", def, 0, n - 1);
  o.reflexive = block.choice("-blur_boundary", "boundary condition", {"reflexive", "zero"}, "reflexive") == "reflexive";
  return o;
}

// Normalised PSF weights, w[(dy + R)(2R + 1) + dx + R], summed in a fixed order.
std::vector<PetscReal> gaussian_psf(PetscReal sigma, PetscInt radius) {
  const PetscInt side = 2 * radius + 1;
  std::vector<PetscReal> w(static_cast<size_t>(side * side));
  PetscReal sum = 0;
  for (PetscInt dy = -radius; dy <= radius; ++dy)
    for (PetscInt dx = -radius; dx <= radius; ++dx) {
      const PetscReal value = std::exp(-static_cast<PetscReal>(dx * dx + dy * dy) / (2 * sigma * sigma));
      w[static_cast<size_t>((dy + radius) * side + dx + radius)] = value;
      sum += value;
    }
  for (PetscReal& value : w) value /= sum;
  return w;
}

// Half-sample symmetric reflection of k into [0, n): the mirrored signal has period 2n.
PetscInt reflect(PetscInt k, PetscInt n) {
  k %= 2 * n;
  if (k < 0) k += 2 * n;
  return k < n ? k : 2 * n - 1 - k;
}

// Builds one row of A at a time: sorted PETSc column indices with merged duplicates
// (reflexive taps that land on the same pixel are summed in tap order, so the values do
// not depend on the rank count).
class BlurRowBuilder {
 public:
  BlurRowBuilder(const ImageGrid& grid, const BlurOptions& options)
      : n_(grid.n()),
        radius_(options.radius),
        reflexive_(options.reflexive),
        psf_(gaussian_psf(options.sigma, options.radius)) {
    // PETSc index of every pixel in the rows this rank's stencils can reach.
    window_begin_ = std::max<PetscInt>(0, grid.y0() - radius_);
    window_end_ = std::min(n_, grid.y0() + grid.ny() + radius_);
    window_ = grid.petsc_indices(window_begin_ * n_, window_end_ * n_);
    const size_t taps = psf_.size();
    entries_.reserve(taps);
    cols_.reserve(taps);
    vals_.reserve(taps);
  }

  // Row of pixel (column c, row r).
  void build(PetscInt c, PetscInt r) {
    entries_.clear();
    const PetscInt side = 2 * radius_ + 1;
    for (PetscInt dy = -radius_; dy <= radius_; ++dy) {
      PetscInt rr = r + dy;
      if (rr < 0 || rr >= n_) {
        if (!reflexive_) continue;
        rr = reflect(rr, n_);
      }
      for (PetscInt dx = -radius_; dx <= radius_; ++dx) {
        const PetscReal w = psf_[static_cast<size_t>((dy + radius_) * side + dx + radius_)];
        if (w == 0) continue;  // underflow for tiny σ: keep A free of stored zeros
        PetscInt cc = c + dx;
        if (cc < 0 || cc >= n_) {
          if (!reflexive_) continue;
          cc = reflect(cc, n_);
        }
        entries_.emplace_back(petsc_index(cc, rr), w);
      }
    }
    std::stable_sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    cols_.clear();
    vals_.clear();
    for (const auto& [col, w] : entries_) {
      if (!cols_.empty() && cols_.back() == col) {
        vals_.back() += w;
      } else {
        cols_.push_back(col);
        vals_.push_back(w);
      }
    }
  }
  const std::vector<PetscInt>& cols() const noexcept { return cols_; }
  const std::vector<PetscScalar>& vals() const noexcept { return vals_; }

 private:
  PetscInt petsc_index(PetscInt c, PetscInt r) const {
    if (r < window_begin_ || r >= window_end_) throw std::logic_error("blur: stencil row outside the index window");
    return window_[static_cast<size_t>((r - window_begin_) * n_ + c)];
  }

  PetscInt n_, radius_;
  bool reflexive_;
  std::vector<PetscReal> psf_;
  PetscInt window_begin_ = 0, window_end_ = 0;
  std::vector<PetscInt> window_;
  std::vector<std::pair<PetscInt, PetscReal>> entries_;
  std::vector<PetscInt> cols_;
  std::vector<PetscScalar> vals_;
};

}  // namespace

ForwardModel create_blur_model(const ImageGrid& grid) {
  const BlurOptions options = read_blur_options(grid.comm(), grid.n());
  log::ScopedEvent event(log::events().operator_assembly);
  const PetscInt local = grid.local_size(), begin = grid.ownership_start(), end = begin + local;
  BlurRowBuilder builder(grid, options);

  // Pass 1: nonzeros per row in the diagonal block (our columns) and the off-diagonal block.
  std::vector<PetscInt> d_nnz(static_cast<size_t>(local)), o_nnz(static_cast<size_t>(local));
  PetscInt k = 0;
  for (PetscInt r = grid.y0(); r < grid.y0() + grid.ny(); ++r)
    for (PetscInt c = grid.x0(); c < grid.x0() + grid.nx(); ++c, ++k) {
      builder.build(c, r);
      for (PetscInt col : builder.cols()) ++(col >= begin && col < end ? d_nnz[k] : o_nnz[k]);
    }

  ForwardModel model;
  BILEARN_CHECK(MatCreate(grid.comm(), model.A.out()));
  BILEARN_CHECK(MatSetSizes(model.A, local, local, grid.pixels(), grid.pixels()));
  BILEARN_CHECK(MatSetType(model.A, MATMPIAIJ));
  BILEARN_CHECK(MatMPIAIJSetPreallocation(model.A, 0, d_nnz.data(), 0, o_nnz.data()));
  BILEARN_CHECK(MatSetOption(model.A, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  BILEARN_CHECK(MatSetOption(model.A, MAT_NO_OFF_PROC_ENTRIES, PETSC_TRUE));

  // Pass 2: fill, one sorted row at a time; local storage order = PETSc row order.
  PetscInt row = begin;
  for (PetscInt r = grid.y0(); r < grid.y0() + grid.ny(); ++r)
    for (PetscInt c = grid.x0(); c < grid.x0() + grid.nx(); ++c, ++row) {
      builder.build(c, r);
      const PetscInt count = static_cast<PetscInt>(builder.cols().size());
      BILEARN_CHECK(MatSetValues(model.A, 1, &row, count, builder.cols().data(), builder.vals().data(), INSERT_VALUES));
    }
  BILEARN_CHECK(MatAssemblyBegin(model.A, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(model.A, MAT_FINAL_ASSEMBLY));

  char name[160];
  std::snprintf(name, sizeof(name), "blur (Gaussian sigma %g px, radius %lld, %s boundary)", (double)options.sigma,
                static_cast<long long>(options.radius), options.reflexive ? "reflexive" : "zero");
  set_data_on_grid(model, grid, name);
  return model;
}

}  // namespace bilearn
