// Assembly of the X-ray transform A (MATMPIAIJ): each rank traces only its own rows (rays,
// angle-major) twice: once to count the nonzeros per row in the diagonal and off-diagonal
// blocks, once to write them straight into the matrix's final CSR arrays (split_csr.hpp:
// no MatSetValues, no stash, nothing sent between ranks, no slack). Columns are DMDA
// global indices, computed analytically from the ownership ranges, so MatMult applies to
// grid vectors directly.
#include <algorithm>
#include <cmath>
#include <functional>
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

// This rank's share [start, start + local) of count rows split evenly over the ranks.
void split_rows(MPI_Comm comm, PetscInt count, PetscInt* start, PetscInt* local) {
  *local = PETSC_DECIDE;
  BILEARN_CHECK(PetscSplitOwnership(comm, local, &count));
  *start = 0;
  BILEARN_CHECK(MPI_Exscan(local, start, 1, MPIU_INT, MPI_SUM, comm));
  PetscMPIInt rank;
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  if (rank == 0) *start = 0;  // MPI_Exscan leaves rank 0's result undefined
}

// Rows row_of(0) .. row_of(rows_global − 1) of A as MATMPIAIJ (split evenly over the ranks).
OwnedMat assemble_rows(const XrayGeometry& geometry, const ImageGrid& grid, PetscInt rows_global,
                       const std::function<PetscInt(PetscInt)>& row_of) {
  const MPI_Comm comm = grid.comm();
  PetscInt row_start = 0, rows_local = 0;
  split_rows(comm, rows_global, &row_start, &rows_local);
  const PetscInt col_begin = grid.ownership_start(), col_end = col_begin + grid.local_size();

  RowBuilder builder(geometry, grid);
  // Pass 1: nonzeros per row in the diagonal block (our columns) and the off-diagonal block.
  SplitCsr csr;
  csr.i.assign(static_cast<size_t>(rows_local) + 1, 0);
  csr.oi.assign(static_cast<size_t>(rows_local) + 1, 0);
  for (PetscInt i = 0; i < rows_local; ++i) {
    builder.build(row_of(row_start + i));
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
    builder.build(row_of(row_start + i));
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

// The symmetries of the angle set (docs/scaling.md §6). A transform pairs a stored row (angle
// k, ray j) with the row (angle(k), j or p − 1 − j) that reads the image moved by a pixel map:
// that row has at map(pixel) the length the stored row has at pixel.
enum class PixelMap { identity, turn90, turn180, mirror, transpose };

struct FoldTransform {
  PixelMap map = PixelMap::identity;
  std::function<PetscInt(PetscInt)> angle;  // k → the angle of the paired row
  bool reversed_rays = false;               // j → p − 1 − j
};

// One stored part: the angles whose rows are stored, and the transforms each is read through.
struct FoldPlanPart {
  std::vector<PetscInt> angles;
  std::vector<FoldTransform> transforms;  // transforms[0] is the identity
};

PixelHit moved(const PixelHit& h, PetscInt n, PixelMap map) {
  PixelHit t = h;
  switch (map) {
    case PixelMap::identity:
      break;
    case PixelMap::turn90:  // the image turned by 90°
      t.row = n - 1 - h.col;
      t.col = h.row;
      break;
    case PixelMap::turn180:
      t.row = n - 1 - h.row;
      t.col = n - 1 - h.col;
      break;
    case PixelMap::mirror:  // x → −x
      t.col = n - 1 - h.col;
      break;
    case PixelMap::transpose:  // the turn by 90° after the mirror
      t.row = h.col;
      t.col = h.row;
      break;
  }
  return t;
}

std::vector<PetscInt> angle_range(PetscInt begin, PetscInt end) {
  std::vector<PetscInt> a;
  for (PetscInt k = begin; k < end; ++k) a.push_back(k);
  return a;
}

// The candidate folds of a geometry, the finest first (each is checked ray by ray):
// - K angles over 180° from 0°, K divisible by 4: the rays at θ + 90° are those at θ turned by
//   90°, those at 180° − θ those at θ mirrored (x → −x), those at 90° − θ those at θ mirrored
//   and turned, on the reversed detector. Angles K/4 + 1 .. K/2 − 1 (46°–89°) are stored once
//   for four rows; angles 0 and K/4 (0°, 45°: their own mirrors) once for two. Of each group of
//   four the angle whose rays run closest to the image rows is stored: they read the pixels
//   in memory order (DMDA rows). bench operator, N = 256, 2 ranks, the whole A's rows of
//   45° – 89° against 0° – 44°: MatMult 1.4 against 2.5 ms, MAIJ(A, 4) 3.2–3.5 against
//   4.3–4.5 ms, the stored transposes' MAIJ 2.2–2.9 against 3.0–3.6 ms.
// - K even over 180° (any start): θ and θ + 90°, the first K/2 angles stored.
// - K even over 360°: θ and θ + 180° (the image turned by 180°).
std::vector<std::vector<FoldPlanPart>> fold_plans(const XrayGeometry& g) {
  std::vector<std::vector<FoldPlanPart>> plans;
  const PetscInt K = g.angles;
  if (K < 2 || K % 2 != 0) return plans;
  const FoldTransform identity{PixelMap::identity, [](PetscInt k) { return k; }, false};
  if (g.angle_range == 180) {
    const FoldTransform turn{PixelMap::turn90, [K](PetscInt k) { return k + K / 2; }, false};
    if (K % 4 == 0 && K >= 8 && g.angle_start == 0) {
      const FoldTransform mirror{PixelMap::mirror, [K](PetscInt k) { return K - k; }, false};
      const FoldTransform both{PixelMap::transpose, [K](PetscInt k) { return K / 2 - k; }, true};
      plans.push_back({FoldPlanPart{angle_range(K / 4 + 1, K / 2), {identity, turn, mirror, both}},
                       FoldPlanPart{{0, K / 4}, {identity, turn}}});
    }
    plans.push_back({FoldPlanPart{angle_range(0, K / 2), {identity, turn}}});
  } else if (g.angle_range == 360) {
    const FoldTransform turn{PixelMap::turn180, [K](PetscInt k) { return k + K / 2; }, false};
    plans.push_back({FoldPlanPart{angle_range(0, K / 2), {identity, turn}}});
  }
  return plans;
}

// Row of A that is stored row rho of a part (rho = index of the angle in the part · p + j).
PetscInt stored_row(const FoldPlanPart& part, PetscInt rays, PetscInt rho) {
  return part.angles[static_cast<size_t>(rho / rays)] * rays + rho % rays;
}

// Row of A that transform t of a part makes of its stored row rho.
PetscInt target_row(const FoldPlanPart& part, PetscInt rays, PetscInt rho, const FoldTransform& t) {
  const PetscInt k = part.angles[static_cast<size_t>(rho / rays)], j = rho % rays;
  return t.angle(k) * rays + (t.reversed_rays ? rays - 1 - j : j);
}

// Whether every target row is its stored row read on the moved image: the same pixels and
// lengths equal to round-off (1e-12·N, the corner-crossing threshold), and every row of A
// made exactly once. Each rank traces its own share of the stored rows; true on every rank or
// on none. Collective.
bool plan_holds(const XrayGeometry& geometry, const ImageGrid& grid, const std::vector<FoldPlanPart>& plan) {
  const PetscInt n = grid.n(), p = geometry.rays;
  PetscInt made = 0;
  for (const FoldPlanPart& part : plan) made += static_cast<PetscInt>(part.angles.size() * part.transforms.size());
  if (made != geometry.angles) return false;
  RowBuilder stored(geometry, grid), paired(geometry, grid);
  std::vector<PixelHit> mapped;
  const PetscReal tol = 1e-12 * n;
  bool ok = true;
  for (const FoldPlanPart& part : plan) {
    PetscInt start = 0, local = 0;
    split_rows(grid.comm(), static_cast<PetscInt>(part.angles.size()) * p, &start, &local);
    for (PetscInt rho = start; ok && rho < start + local; ++rho) {
      stored.build(stored_row(part, p, rho));
      for (size_t t = 1; ok && t < part.transforms.size(); ++t) {
        const FoldTransform& tr = part.transforms[t];
        const PetscInt target = target_row(part, p, rho, tr);
        ok = target >= 0 && target < geometry.rows();
        if (!ok) break;
        paired.build(target);
        const auto& b = paired.natural_entries();
        mapped.clear();
        for (const PixelHit& h : stored.natural_entries()) mapped.push_back(moved(h, n, tr.map));
        std::sort(mapped.begin(), mapped.end(),
                  [](const PixelHit& x, const PixelHit& y) { return x.row != y.row ? x.row < y.row : x.col < y.col; });
        ok = mapped.size() == b.size();
        for (size_t k = 0; ok && k < b.size(); ++k)
          ok =
              mapped[k].row == b[k].row && mapped[k].col == b[k].col && std::abs(mapped[k].length - b[k].length) <= tol;
      }
    }
  }
  return all_ranks(grid.comm(), ok);
}

// The folded operator of a plan that holds (folded_operator.hpp).
OwnedMat assemble_folded(const XrayGeometry& geometry, const ImageGrid& grid, const std::vector<FoldPlanPart>& plan,
                         double forward_by_transpose_mb) {
  const PetscInt n = grid.n(), p = geometry.rays;
  const DmdaIndex index(grid);
  const std::vector<PetscInt> natural = grid.local_natural_indices();
  std::vector<FoldPart> parts;
  for (const FoldPlanPart& plan_part : plan) {
    const PetscInt count = static_cast<PetscInt>(plan_part.angles.size()) * p;
    FoldPart part;
    part.rows = assemble_rows(geometry, grid, count, [&](PetscInt rho) { return stored_row(plan_part, p, rho); });
    for (const FoldTransform& t : plan_part.transforms) {
      // (T x)_i = x_{map(i)}: the paired row has at map(i) what the stored row has at i.
      std::vector<PetscInt> source(natural.size());
      for (size_t k = 0; k < natural.size(); ++k) {
        PixelHit h;
        h.row = natural[k] / n;
        h.col = natural[k] % n;
        const PixelHit m = moved(h, n, t.map);
        source[k] = index(m.col, m.row);
      }
      part.sources.push_back(std::move(source));
    }
    PetscInt start = 0, local = 0;
    BILEARN_CHECK(MatGetOwnershipRange(part.rows, &start, nullptr));
    BILEARN_CHECK(MatGetLocalSize(part.rows, &local, nullptr));
    for (PetscInt rho = start; rho < start + local; ++rho)
      for (const FoldTransform& t : plan_part.transforms) part.targets.push_back(target_row(plan_part, p, rho, t));
    parts.push_back(std::move(part));
  }
  PetscInt rows_start = 0, rows_local = 0;
  split_rows(grid.comm(), geometry.rows(), &rows_start, &rows_local);
  return create_folded_operator(std::move(parts), rows_local, geometry.rows(), forward_by_transpose_mb);
}

}  // namespace

ForwardModel create_xray_model(const ImageGrid& grid) {
  const MPI_Comm comm = grid.comm();
  const XrayGeometry geometry = read_xray_geometry(comm, grid.n());
  bool fold = true;
  double forward_by_transpose_mb = 12;
  {
    OptionsBlock block(comm, "", "Tomography operator storage");
    fold = block.flag("-tomo_fold",
                      "store only the rows that the symmetries of the angle set do not give (θ + 90°, 180° - θ: "
                      "checked ray by ray); the others are applied to the turned or mirrored image",
                      fold);
    forward_by_transpose_mb =
        block.real("-tomo_fold_transposed_mb",
                   "folded products whose transformed images exceed this many MiB per rank compute A x through the "
                   "stored transposes too (read in image order; large N, several samples; 0: always)",
                   forward_by_transpose_mb, 0.0, 1e9);
  }
  log::ScopedEvent event(log::events().operator_assembly);
  ForwardModel model;
  if (fold)
    for (const auto& plan : fold_plans(geometry))
      if (plan_holds(geometry, grid, plan)) {
        model.A = assemble_folded(geometry, grid, plan, forward_by_transpose_mb);
        break;
      }
  if (!model.A) model.A = assemble_rows(geometry, grid, geometry.rows(), [](PetscInt row) { return row; });

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
