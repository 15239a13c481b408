// X-ray transform (parallel and fan beam): adjoint identity, exact geometry against analytic
// chord lengths and single-pixel projections, rank-count invariance of every entry, and
// option validation. Runs on 1, 2 and 3 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/problem/xray_geometry.hpp"
#include "test_support.hpp"

using namespace bilearn;


const auto* const unfolded_tomography = ::testing::AddGlobalTestEnvironment(new bilearn_test::UnfoldedTomography);

namespace {

using bilearn_test::ScopedOptions;

using Options = std::vector<std::pair<std::string, std::string>>;

// The test's own trigonometry (exact at multiples of 90°), independent of the library's.
void test_cos_sin(double degrees, double* c, double* s) {
  const double q = degrees / 90;
  if (q == std::round(q)) {
    const long k = ((static_cast<long>(std::round(q)) % 4) + 4) % 4;
    *c = k == 0 ? 1 : k == 2 ? -1 : 0;
    *s = k == 1 ? 1 : k == 3 ? -1 : 0;
  } else {
    *c = std::cos(degrees * M_PI / 180);
    *s = std::sin(degrees * M_PI / 180);
  }
}

// Analytic length of the line through point (x, y) with direction (dx, dy) inside
// [−h, h]², h = N/2. A line exactly on the right or top edge counts 0, on the left or bottom
// edge 2h (half-open pixels). Otherwise with unit normal (a, b), |a| ≥ |b| > 0 and offset s:
// 2h/max(|a|,|b|) while the line cuts two opposite edges (|s| ≤ h·||a|−|b||), and the
// hypotenuse (h(|a|+|b|) − |s|)/(|a||b|) of the corner triangle it cuts off otherwise.
double chord(double x, double y, double dx, double dy, int n) {
  const double h = 0.5 * n;
  if (dx == 0) return (x >= -h && x < h) ? 2 * h : 0;
  if (dy == 0) return (y >= -h && y < h) ? 2 * h : 0;
  const double len = std::hypot(dx, dy);
  const double a = std::fabs(dy / len), b = std::fabs(dx / len);
  const double s = std::fabs((dy * x - dx * y) / len);
  const double big = h * (a + b), small = h * std::fabs(a - b);
  if (s >= big) return 0;
  if (s <= small) return 2 * h / std::max(a, b);
  return (big - s) / (a * b);
}

double detector_offset(int j, int p, double d) {
  return p == 1 ? 0.0 : -d / 2 + j * d / (p - 1);
}

// The row-th ray of a geometry computed independently of the library: a point and a direction.
struct TestRay {
  double x, y, dx, dy;
};
TestRay parallel_ray(double degrees, double s) {
  double c, sn;
  test_cos_sin(degrees, &c, &sn);
  return {s * c, s * sn, -sn, c};
}
TestRay fan_ray(double degrees, double u, double R, double D) {
  double c, sn;
  test_cos_sin(degrees, &c, &sn);
  const double sx = R * sn, sy = -R * c;                            // source
  const double ex = sx - D * sn + u * c, ey = sy + D * c + u * sn;  // detector element
  return {sx, sy, ex - sx, ey - sy};
}

// Map from PETSc (DMDA) index to natural index, through the DMDA's own AO.
std::vector<PetscInt> petsc_to_natural(const ImageGrid& grid) {
  const std::vector<PetscInt> to_petsc = grid.petsc_indices(0, grid.pixels());
  std::vector<PetscInt> to_natural(to_petsc.size());
  for (size_t k = 0; k < to_petsc.size(); ++k) to_natural[static_cast<size_t>(to_petsc[k])] = static_cast<PetscInt>(k);
  return to_natural;
}

// Row `row` of A (locally owned) with columns in natural order, sorted.
std::vector<std::pair<PetscInt, PetscScalar>> natural_row(Mat A, PetscInt row, const std::vector<PetscInt>& to_nat) {
  PetscInt ncols;
  const PetscInt* cols;
  const PetscScalar* vals;
  BILEARN_CHECK(MatGetRow(A, row, &ncols, &cols, &vals));
  std::vector<std::pair<PetscInt, PetscScalar>> out;
  for (PetscInt k = 0; k < ncols; ++k) out.emplace_back(to_nat[static_cast<size_t>(cols[k])], vals[k]);
  BILEARN_CHECK(MatRestoreRow(A, row, &ncols, &cols, &vals));
  std::sort(out.begin(), out.end());
  return out;
}

double adjoint_mismatch(Mat A) {
  OwnedVec x, y, Ax, Aty;
  BILEARN_CHECK(MatCreateVecs(A, x.out(), y.out()));
  BILEARN_CHECK(VecDuplicate(y, Ax.out()));
  BILEARN_CHECK(VecDuplicate(x, Aty.out()));
  OwnedRandom rnd;
  BILEARN_CHECK(PetscRandomCreate(PETSC_COMM_WORLD, rnd.out()));
  BILEARN_CHECK(PetscRandomSetInterval(rnd, -1.0, 1.0));
  BILEARN_CHECK(PetscRandomSetSeed(rnd, 12345));
  BILEARN_CHECK(PetscRandomSeed(rnd));
  BILEARN_CHECK(VecSetRandom(x, rnd));
  BILEARN_CHECK(VecSetRandom(y, rnd));
  BILEARN_CHECK(MatMult(A, x, Ax));
  BILEARN_CHECK(MatMultTranspose(A, y, Aty));
  PetscScalar lhs, rhs;
  BILEARN_CHECK(VecDot(Ax, y, &lhs));
  BILEARN_CHECK(VecDot(x, Aty, &rhs));
  PetscReal nAx, ny;
  BILEARN_CHECK(VecNorm(Ax, NORM_2, &nAx));
  BILEARN_CHECK(VecNorm(y, NORM_2, &ny));
  return std::fabs(lhs - rhs) / (nAx * ny);
}

}  // namespace

TEST(Xray, GeometryDefaultsAndName) {
  ImageGrid grid(PETSC_COMM_WORLD, 64);
  ForwardModel model = create_xray_model(grid);
  EXPECT_EQ(model.name, "tomo (parallel beam, 180 angles, 91 rays)");
  EXPECT_FALSE(model.data_on_grid);
  EXPECT_EQ(model.data_rows, 180);
  EXPECT_EQ(model.data_cols, 91);
  PetscInt m, n, mloc, nloc;
  BILEARN_CHECK(MatGetSize(model.A, &m, &n));
  BILEARN_CHECK(MatGetLocalSize(model.A, &mloc, &nloc));
  EXPECT_EQ(m, 180 * 91);
  EXPECT_EQ(n, 64 * 64);
  EXPECT_EQ(nloc, grid.local_size());  // columns follow the DMDA layout
  MatType type;
  BILEARN_CHECK(MatGetType(model.A, &type));
  EXPECT_STREQ(type, MATMPIAIJ);
  const XrayGeometry g = read_xray_geometry(PETSC_COMM_WORLD, 64);
  EXPECT_EQ(g.width, 90.0);
  EXPECT_EQ(g.angle_degrees(179), 179.0);
}

TEST(Xray, AdjointIdentityParallelAndFan) {
  const std::vector<Options> cases = {
      {},
      {{"-tomo_angles", "17"}, {"-tomo_rays", "20"}, {"-tomo_width", "13.7"}, {"-tomo_angle_start", "-11.5"}},
      {{"-tomo_geometry", "fan"}},
      {{"-tomo_geometry", "fan"}, {"-tomo_angles", "23"}, {"-tomo_angle_range", "360"}, {"-tomo_rays", "30"}},
  };
  for (PetscInt n : {9, 16})
    for (const Options& options : cases) {
      ScopedOptions scoped(options);
      ImageGrid grid(PETSC_COMM_WORLD, n);
      ForwardModel model = create_xray_model(grid);
      const double mismatch = adjoint_mismatch(model.A);
      EXPECT_LT(mismatch, 1e-12) << model.name << " N=" << n;
    }
}

TEST(Xray, CentralRayHasLengthN) {
  for (int n : {8, 9}) {
    // Angles 0° and 90°; default p = round(√2 N) is odd for both sizes: ray (p−1)/2 is central.
    ScopedOptions scoped(Options{{"-tomo_angles", "2"}});
    ImageGrid grid(PETSC_COMM_WORLD, n);
    ForwardModel model = create_xray_model(grid);
    const XrayGeometry g = read_xray_geometry(PETSC_COMM_WORLD, n);
    EXPECT_EQ(g.rays % 2, 1);
    const std::vector<PetscInt> to_nat = petsc_to_natural(grid);
    PetscInt lo, hi;
    BILEARN_CHECK(MatGetOwnershipRange(model.A, &lo, &hi));
    const PetscInt central = (g.rays - 1) / 2;
    const int line = n / 2;  // x = 0 (resp. y = 0) is in column n/2 (resp. row (n−1)/2), see the header
    for (PetscInt k = 0; k < 2; ++k) {
      const PetscInt row = k * g.rays + central;
      if (row < lo || row >= hi) continue;
      const auto entries = natural_row(model.A, row, to_nat);
      double sum = 0;
      for (const auto& e : entries) sum += e.second;
      EXPECT_NEAR(sum, n, 1e-13) << "angle " << 90 * k;
      EXPECT_EQ(entries.size(), static_cast<size_t>(n));
      for (const auto& [col, value] : entries) {
        const PetscInt r = col / n, c = col % n;
        if (k == 0)
          EXPECT_EQ(c, line) << "vertical central ray, N=" << n;
        else
          EXPECT_EQ(r, (n - 1) / 2) << "horizontal central ray, N=" << n;
        EXPECT_DOUBLE_EQ(value, 1.0);
      }
    }
  }
}

TEST(Xray, RowSumsEqualAnalyticChords) {
  struct Case {
    int n;
    Options options;
  };
  // 12 angles over 180°: 0, 15, 30, 45, …, 90, …, 135, … (rays on grid lines and edges
  // included by the default spacing 1).
  const std::vector<Case> cases = {
      {8, {{"-tomo_angles", "12"}}},
      {9, {{"-tomo_angles", "12"}, {"-tomo_rays", "14"}, {"-tomo_width", "12.6"}}},
      {8, {{"-tomo_angles", "12"}, {"-tomo_geometry", "fan"}}},
      {9,
       {{"-tomo_angles", "24"},
        {"-tomo_angle_range", "360"},
        {"-tomo_geometry", "fan"},
        {"-tomo_rays", "16"},
        {"-tomo_source_distance", "9"},
        {"-tomo_detector_distance", "20"},
        {"-tomo_width", "40"}}},
  };
  for (const Case& tc : cases) {
    ScopedOptions scoped(tc.options);
    ImageGrid grid(PETSC_COMM_WORLD, tc.n);
    ForwardModel model = create_xray_model(grid);
    const XrayGeometry g = read_xray_geometry(PETSC_COMM_WORLD, tc.n);
    OwnedVec sums;
    BILEARN_CHECK(MatCreateVecs(model.A, nullptr, sums.out()));
    BILEARN_CHECK(MatGetRowSum(model.A, sums));
    PetscInt lo, hi;
    BILEARN_CHECK(VecGetOwnershipRange(sums, &lo, &hi));
    ConstVecArray s(sums);
    int bad = 0, nonzero = 0;
    for (PetscInt row = lo; row < hi; ++row) {
      const int k = static_cast<int>(row / g.rays), j = static_cast<int>(row % g.rays);
      const double degrees = g.angle_start + k * g.angle_range / g.angles;
      const double u = detector_offset(j, static_cast<int>(g.rays), g.width);
      const TestRay ray = g.beam == BeamType::parallel ? parallel_ray(degrees, u)
                                                       : fan_ray(degrees, u, g.source_distance, g.detector_distance);
      const double expected = chord(ray.x, ray.y, ray.dx, ray.dy, tc.n);
      if (expected > 0) ++nonzero;
      if (std::fabs(s[row - lo] - expected) > 1e-10) {
        if (++bad <= 5)
          ADD_FAILURE() << model.name << " N=" << tc.n << " row " << row << " (angle " << degrees << ", offset " << u
                        << "): row sum " << s[row - lo] << ", chord " << expected;
      }
    }
    EXPECT_EQ(bad, 0) << model.name;
    EXPECT_GT(sum_over_ranks(PETSC_COMM_WORLD, nonzero), 0.5 * g.rows()) << "most rays should hit the image";
  }
}

TEST(Xray, SinglePixelProjectsToTheRightDetectors) {
  struct Case {
    int n;
    Options options;
  };
  const std::vector<Case> cases = {
      {8, {{"-tomo_angles", "2"}}},                                                // offsets on grid lines
      {7, {{"-tomo_angles", "2"}}},                                                // N odd: offsets at centres
      {8, {{"-tomo_angles", "2"}, {"-tomo_rays", "13"}, {"-tomo_width", "9.1"}}},  // generic offsets
      {7, {{"-tomo_angles", "2"}, {"-tomo_rays", "29"}, {"-tomo_width", "7"}}},    // spacing 1/4, on edges
  };
  for (const Case& tc : cases) {
    ScopedOptions scoped(tc.options);
    const int n = tc.n;
    const double h = 0.5 * n;
    ImageGrid grid(PETSC_COMM_WORLD, n);
    ForwardModel model = create_xray_model(grid);
    const XrayGeometry g = read_xray_geometry(PETSC_COMM_WORLD, n);
    OwnedVec x = grid.create_vec(), y;
    BILEARN_CHECK(MatCreateVecs(model.A, nullptr, y.out()));
    const std::vector<std::pair<int, int>> pixels = {{0, 0}, {0, n - 1}, {n - 1, 0}, {n - 1, n - 1}, {2, 3}, {4, 1}};
    for (const auto& [r, c] : pixels) {
      std::vector<PetscScalar> image(static_cast<size_t>(n * n), 0.0);
      image[static_cast<size_t>(r * n + c)] = 1.0;
      grid.set_from_natural(image, x);
      BILEARN_CHECK(MatMult(model.A, x, y));
      PetscInt lo, hi;
      BILEARN_CHECK(VecGetOwnershipRange(y, &lo, &hi));
      ConstVecArray a(y);
      int bad = 0;
      for (PetscInt row = lo; row < hi; ++row) {
        const PetscInt k = row / g.rays, j = row % g.rays;
        const double u = detector_offset(static_cast<int>(j), static_cast<int>(g.rays), g.width);
        // 0°: vertical ray at x = u; 90°: horizontal ray at y = u; pixels are half-open.
        const bool hit = k == 0 ? (u >= c - h && u < c + 1 - h) : (u >= h - r - 1 && u < h - r);
        if (std::fabs(a[row - lo] - (hit ? 1.0 : 0.0)) > 1e-13 && ++bad <= 3)
          ADD_FAILURE() << "N=" << n << " pixel (" << r << "," << c << ") angle " << 90 * k << " ray " << j
                        << " offset " << u << ": got " << a[row - lo];
      }
      EXPECT_EQ(bad, 0);
    }
  }
}

TEST(Xray, EntriesIdenticalForAnyRankCount) {
  const std::vector<Options> cases = {
      {{"-tomo_angles", "30"}},
      {{"-tomo_angles", "25"}, {"-tomo_rays", "31"}, {"-tomo_width", "17.3"}, {"-tomo_angle_start", "7"}},
      {{"-tomo_geometry", "fan"}, {"-tomo_angles", "40"}, {"-tomo_angle_range", "360"}},
  };
  for (PetscInt n : {12, 13})
    for (const Options& options : cases) {
      ScopedOptions scoped(options);
      ImageGrid grid(PETSC_COMM_WORLD, n);
      ForwardModel model = create_xray_model(grid);
      ImageGrid serial_grid(PETSC_COMM_SELF, n);
      ForwardModel serial = create_xray_model(serial_grid);

      MatInfo info, serial_info;
      BILEARN_CHECK(MatGetInfo(model.A, MAT_GLOBAL_SUM, &info));
      BILEARN_CHECK(MatGetInfo(serial.A, MAT_GLOBAL_SUM, &serial_info));
      EXPECT_EQ(info.nz_used, serial_info.nz_used) << model.name;
      PetscReal fro, serial_fro;
      BILEARN_CHECK(MatNorm(model.A, NORM_FROBENIUS, &fro));
      BILEARN_CHECK(MatNorm(serial.A, NORM_FROBENIUS, &serial_fro));
      EXPECT_NEAR(fro, serial_fro, 1e-12 * serial_fro) << model.name;  // summation order only

      // Every local entry, in natural column order, bit-identical to the serial reference.
      const std::vector<PetscInt> to_nat = petsc_to_natural(grid), serial_to_nat = petsc_to_natural(serial_grid);
      PetscInt lo, hi;
      BILEARN_CHECK(MatGetOwnershipRange(model.A, &lo, &hi));
      int bad = 0;
      for (PetscInt row = lo; row < hi; ++row)
        if (natural_row(model.A, row, to_nat) != natural_row(serial.A, row, serial_to_nat) && ++bad <= 3)
          ADD_FAILURE() << model.name << " N=" << n << ": row " << row << " differs from the serial reference";
      EXPECT_EQ(bad, 0);
    }
}

TEST(Xray, BadOptionsThrowNamingTheOption) {
  const std::vector<std::pair<Options, std::string>> cases = {
      {{{"-tomo_angles", "0"}}, "-tomo_angles"},
      {{{"-tomo_rays", "-3"}}, "-tomo_rays"},
      {{{"-tomo_geometry", "cone"}}, "-tomo_geometry"},
      {{{"-tomo_width", "0"}}, "-tomo_width"},
      {{{"-tomo_angle_range", "0"}}, "-tomo_angle_range"},
      {{{"-tomo_geometry", "fan"}, {"-tomo_source_distance", "5"}}, "-tomo_source_distance"},       // ρ = 5.66
      {{{"-tomo_geometry", "fan"}, {"-tomo_detector_distance", "15"}}, "-tomo_detector_distance"},  // R = 16
  };
  for (const auto& [options, name] : cases) {
    ScopedOptions scoped(options);
    ImageGrid grid(PETSC_COMM_WORLD, 8);
    try {
      create_xray_model(grid);
      ADD_FAILURE() << "expected an InputError for " << name;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(name), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  }
  // A single ray needs no width.
  ScopedOptions scoped(Options{{"-tomo_rays", "1"}, {"-tomo_width", "0"}});
  ImageGrid grid(PETSC_COMM_WORLD, 8);
  EXPECT_NO_THROW(create_xray_model(grid));
}
