// Assembly of the X-ray transform A (MATMPIAIJ): each rank traces only its own rows (rays,
// angle-major) twice: once to count the nonzeros per row in the diagonal and off-diagonal
// blocks, once to write them straight into the matrix's final CSR arrays (split_csr.hpp:
// no MatSetValues, no stash, nothing sent between ranks, no slack). Columns are DMDA
// global indices, computed analytically from the ownership ranges, so MatMult applies to
// grid vectors directly.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/problem/folded_operator.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/problem/split_csr.hpp"
#include "bilearn/problem/xray_geometry.hpp"

namespace bilearn {

namespace {

// DMDA global index of pixel (column c, row r) = DMDA (i = c, j = r). Ranks form an m×n
// process grid, x fastest: rank (px, py) owns columns [xs_px, xs_px + lx_px) and rows
// [ys_py, ys_py + ly_py), numbered row by row after all lower ranks, whose blocks hold
//   ys_py·N (every rank below) + ly_py·xs_px (ranks to the left in the same process row)
// indices. O(N) memory: one owner per column and one per row.
class DmdaIndex {
 public:
  explicit DmdaIndex(const ImageGrid& grid) : n_(grid.n()) {
    PetscInt m = 0, nproc_y = 0;
    BILEARN_CHECK(DMDAGetInfo(grid.dm(), nullptr, nullptr, nullptr, nullptr, &m, &nproc_y, nullptr, nullptr, nullptr,
                              nullptr, nullptr, nullptr, nullptr));
    const PetscInt *lx = nullptr, *ly = nullptr;
    BILEARN_CHECK(DMDAGetOwnershipRanges(grid.dm(), &lx, &ly, nullptr));
    col_start_.resize(static_cast<size_t>(n_));
    col_width_.resize(static_cast<size_t>(n_));
    row_start_.resize(static_cast<size_t>(n_));
    row_base_.resize(static_cast<size_t>(n_));
    row_height_.resize(static_cast<size_t>(n_));
    for (PetscInt p = 0, xs = 0; p < m; xs += lx[p], ++p)
      for (PetscInt c = xs; c < xs + lx[p]; ++c) {
        col_start_[c] = xs;
        col_width_[c] = lx[p];
      }
    for (PetscInt p = 0, ys = 0; p < nproc_y; ys += ly[p], ++p)
      for (PetscInt r = ys; r < ys + ly[p]; ++r) {
        row_start_[r] = ys;
        row_base_[r] = ys * n_;
        row_height_[r] = ly[p];
      }
  }
  PetscInt operator()(PetscInt c, PetscInt r) const noexcept {
    return row_base_[r] + row_height_[r] * col_start_[c] + (r - row_start_[r]) * col_width_[c] + (c - col_start_[c]);
  }

 private:
  PetscInt n_;
  std::vector<PetscInt> col_start_, col_width_, row_start_, row_base_, row_height_;
};

// One row of A: traces the ray, puts the pixels in natural order in O(length) (along a line
// the pixel row r and column c are both monotone: orient the ray so that r increases, then
// reverse each run of equal r if c decreases), sums the rare duplicate (round-off split) in
// natural order, maps to DMDA columns and sorts only when the DMDA order differs (several
// process columns). Every step is independent of the rank count except the final, unique-key
// sort, so the entries are too.
class RowBuilder {
 public:
  RowBuilder(const XrayGeometry& geometry, const ImageGrid& grid)
      : geometry_(geometry), tracer_(grid.n()), index_(grid) {
    const size_t capacity = static_cast<size_t>(2 * grid.n() + 2);
    hits_.reserve(capacity);
    entries_.reserve(capacity);
    pairs_.reserve(capacity);
    cols_.reserve(capacity);
    vals_.reserve(capacity);
  }
  void build(PetscInt row) {
    tracer_.trace(geometry_.ray(row), hits_);
    cols_.clear();
    vals_.clear();
    entries_.clear();
    if (hits_.empty()) return;
    if (hits_.front().row > hits_.back().row) std::reverse(hits_.begin(), hits_.end());
    if (hits_.front().col > hits_.back().col)
      for (auto run = hits_.begin(); run != hits_.end();) {
        auto end = std::find_if(run, hits_.end(), [&](const PixelHit& h) { return h.row != run->row; });
        std::reverse(run, end);
        run = end;
      }
    for (const PixelHit& hit : hits_) {
      if (!entries_.empty() && hit.row == entries_.back().row && hit.col == entries_.back().col)
        entries_.back().length += hit.length;
      else
        entries_.push_back(hit);
    }
    bool sorted = true;
    for (const PixelHit& e : entries_) {
      const PetscInt col = index_(e.col, e.row);
      sorted = sorted && (cols_.empty() || cols_.back() < col);
      cols_.push_back(col);
      vals_.push_back(e.length);
    }
    if (!sorted) {
      pairs_.clear();
      for (size_t k = 0; k < cols_.size(); ++k) pairs_.emplace_back(cols_[k], vals_[k]);
      std::sort(pairs_.begin(), pairs_.end());  // keys are unique: deterministic
      for (size_t k = 0; k < pairs_.size(); ++k) {
        cols_[k] = pairs_[k].first;
        vals_[k] = pairs_[k].second;
      }
    }
  }
  const std::vector<PetscInt>& cols() const noexcept { return cols_; }
  // The row's pixels after build(), merged, in natural order (row r, then column c).
  const std::vector<PixelHit>& natural_entries() const noexcept { return entries_; }
  const std::vector<PetscScalar>& vals() const noexcept { return vals_; }

 private:
  const XrayGeometry& geometry_;
  RayTracer tracer_;
  DmdaIndex index_;
  std::vector<PixelHit> hits_, entries_;
  std::vector<std::pair<PetscInt, PetscScalar>> pairs_;
  std::vector<PetscInt> cols_;
  std::vector<PetscScalar> vals_;
};

// Rows 0 .. rows_global − 1 of A as MATMPIAIJ (rows split evenly over the ranks).
OwnedMat assemble_rows(const XrayGeometry& geometry, const ImageGrid& grid, PetscInt rows_global) {
  const MPI_Comm comm = grid.comm();
  PetscInt rows_local = PETSC_DECIDE;
  BILEARN_CHECK(PetscSplitOwnership(comm, &rows_local, &rows_global));
  PetscInt row_start = 0;
  BILEARN_CHECK(MPI_Exscan(&rows_local, &row_start, 1, MPIU_INT, MPI_SUM, comm));
  PetscMPIInt rank;
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  if (rank == 0) row_start = 0;  // MPI_Exscan leaves rank 0's result undefined
  const PetscInt col_begin = grid.ownership_start(), col_end = col_begin + grid.local_size();

  RowBuilder builder(geometry, grid);
  // Pass 1: nonzeros per row in the diagonal block (our columns) and the off-diagonal block.
  SplitCsr csr;
  csr.i.assign(static_cast<size_t>(rows_local) + 1, 0);
  csr.oi.assign(static_cast<size_t>(rows_local) + 1, 0);
  for (PetscInt i = 0; i < rows_local; ++i) {
    builder.build(row_start + i);
    PetscInt d = 0, o = 0;
    for (PetscInt col : builder.cols()) ++(col >= col_begin && col < col_end ? d : o);
    csr.i[i + 1] = csr.i[i] + d;
    csr.oi[i + 1] = csr.oi[i] + o;
  }

  // Pass 2: fill the final arrays, one sorted row at a time (the diagonal block with local
  // column indices, the off-diagonal block with global ones).
  csr.j.resize(static_cast<size_t>(csr.i[rows_local]));
  csr.a.resize(csr.j.size());
  csr.oj.resize(static_cast<size_t>(csr.oi[rows_local]));
  csr.oa.resize(csr.oj.size());
  for (PetscInt i = 0; i < rows_local; ++i) {
    builder.build(row_start + i);
    size_t d = static_cast<size_t>(csr.i[i]), o = static_cast<size_t>(csr.oi[i]);
    for (size_t k = 0; k < builder.cols().size(); ++k) {
      const PetscInt col = builder.cols()[k];
      if (col >= col_begin && col < col_end) {
        csr.j[d] = col - col_begin;
        csr.a[d++] = builder.vals()[k];
      } else {
        csr.oj[o] = col;
        csr.oa[o++] = builder.vals()[k];
      }
    }
  }
  return create_mpiaij_from_split(comm, rows_local, grid.local_size(), rows_global, grid.pixels(), std::move(csr));
}

// The turn of the image that maps the rays of the first half of the angles onto the second
// half's: θ_{k+K/2} = θ_k + Δ/2, so a turn by Δ/2 of 90° (parallel beam over 180°) or 180°
// (over 360°). Pixel (r, c) of the turned image is pixel turned(r, c) of the original:
//   90°:  (N − 1 − c, r);   180°: (N − 1 − r, N − 1 − c).
// Returns 0 when the angles have no such symmetry.
int fold_turn_degrees(const XrayGeometry& g) {
  if (g.angles < 2 || g.angles % 2 != 0) return 0;
  if (g.angle_range == 180) return 90;
  if (g.angle_range == 360) return 180;
  return 0;
}

PixelHit turned(const PixelHit& h, PetscInt n, int degrees) {
  PixelHit t = h;
  if (degrees == 90) {
    t.row = n - 1 - h.col;
    t.col = h.row;
  } else {
    t.row = n - 1 - h.row;
    t.col = n - 1 - h.col;
  }
  return t;
}

// Whether every row of the second half is its first-half partner read on the turned image:
// the same pixels and lengths equal to round-off (1e-12·N, the corner-crossing threshold).
// Each rank traces its own share of the pairs; true on every rank or on none. Collective.
bool rows_fold(const XrayGeometry& geometry, const ImageGrid& grid, int degrees) {
  const PetscInt half = geometry.rows() / 2, n = grid.n();
  PetscInt local = PETSC_DECIDE, global = half;
  BILEARN_CHECK(PetscSplitOwnership(grid.comm(), &local, &global));
  PetscInt start = 0;
  BILEARN_CHECK(MPI_Exscan(&local, &start, 1, MPIU_INT, MPI_SUM, grid.comm()));
  PetscMPIInt rank;
  BILEARN_CHECK(MPI_Comm_rank(grid.comm(), &rank));
  if (rank == 0) start = 0;
  RowBuilder first(geometry, grid), second(geometry, grid);
  std::vector<PixelHit> mapped;
  const PetscReal tol = 1e-12 * n;
  bool ok = true;
  for (PetscInt i = start; ok && i < start + local; ++i) {
    first.build(i);
    second.build(half + i);
    const auto& b = second.natural_entries();
    mapped.clear();
    for (const PixelHit& h : first.natural_entries()) mapped.push_back(turned(h, n, degrees));
    std::sort(mapped.begin(), mapped.end(),
              [](const PixelHit& x, const PixelHit& y) { return x.row != y.row ? x.row < y.row : x.col < y.col; });
    ok = mapped.size() == b.size();
    for (size_t k = 0; ok && k < b.size(); ++k)
      ok = mapped[k].row == b[k].row && mapped[k].col == b[k].col && std::abs(mapped[k].length - b[k].length) <= tol;
  }
  return all_ranks(grid.comm(), ok);
}

// For each of this rank's pixels, the global index of the pixel the turned image reads.
std::vector<PetscInt> turn_sources(const ImageGrid& grid, int degrees) {
  const PetscInt n = grid.n();
  const DmdaIndex index(grid);
  const std::vector<PetscInt> natural = grid.local_natural_indices();
  std::vector<PetscInt> source(natural.size());
  for (size_t k = 0; k < natural.size(); ++k) {
    PixelHit h;
    h.row = natural[k] / n;
    h.col = natural[k] % n;
    // Row (k + K/2, j) has at turned(p) the length row (k, j) has at p, so its product with x
    // is row (k, j)'s with P x, (P x)_p = x_{turned(p)}.
    const PixelHit t = turned(h, n, degrees);
    source[k] = index(t.col, t.row);
  }
  return source;
}

}  // namespace

ForwardModel create_xray_model(const ImageGrid& grid) {
  const MPI_Comm comm = grid.comm();
  const XrayGeometry geometry = read_xray_geometry(comm, grid.n());
  bool fold = true;
  {
    OptionsBlock block(comm, "", "Tomography operator storage");
    fold = block.flag("-tomo_fold",
                         "store half of A when the angles come in pairs θ, θ + Δ/2 that a turn of the image maps "
                         "onto each other (checked ray by ray; the other half is applied by turning the image)",
                         fold);
  }
  log::ScopedEvent event(log::events().operator_assembly);
  ForwardModel model;
  const int degrees = fold ? fold_turn_degrees(geometry) : 0;
  if (degrees != 0 && rows_fold(geometry, grid, degrees)) {
    PetscInt rows_local = PETSC_DECIDE, rows_global = geometry.rows();
    BILEARN_CHECK(PetscSplitOwnership(comm, &rows_local, &rows_global));
    model.A = create_folded_operator(assemble_rows(geometry, grid, geometry.rows() / 2), turn_sources(grid, degrees),
                                     rows_local);
  } else {
    model.A = assemble_rows(geometry, grid, geometry.rows());
  }

  model.name = "tomo (" + geometry.describe() + ")";
  model.data_on_grid = false;
  model.data_rows = geometry.angles;
  model.data_cols = geometry.rays;
  model.geometry = {{"tomo_angles", static_cast<PetscReal>(geometry.angles)},
                    {"tomo_angle_start", geometry.angle_start},
                    {"tomo_angle_range", geometry.angle_range},
                    {"tomo_rays", static_cast<PetscReal>(geometry.rays)},
                    {"tomo_width", geometry.width}};
  if (geometry.beam == BeamType::fan) {
    model.geometry.emplace_back("tomo_source_distance", geometry.source_distance);
    model.geometry.emplace_back("tomo_detector_distance", geometry.detector_distance);
  }
  return model;
}

}  // namespace bilearn
