// Forward operators blur, inpaint, identity, user matrix (and tomo through the factory):
// adjoint identities, blur against a direct convolution in natural coordinates, PSF
// normalisation, masks independent of the rank count, matrix files written in natural order
// and loaded back, natural-order views of A and of data vectors, bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "bilearn/problem/natural_order.hpp"
#include "bilearn/problem/noise.hpp"
#include "bilearn/problem/operators.hpp"
#include "test_support.hpp"

using namespace bilearn;


const auto* const unfolded_tomography = ::testing::AddGlobalTestEnvironment(new bilearn_test::UnfoldedTomography);

namespace {

using bilearn_test::ScopedOptions;
using bilearn_test::random_vec;

ForwardModel make_model(const ImageGrid& grid, const char* type) {
  ProblemOptions o;
  o.type = type;
  o.n = grid.n();
  return create_forward_model(grid, o);
}

int rank_of(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

// A file name shared by all ranks (rank 0's pid), removed by the destructor.
class TempFile {
 public:
  explicit TempFile(const char* tag) {
    long pid = static_cast<long>(getpid());
    MPI_Bcast(&pid, 1, MPI_LONG, 0, PETSC_COMM_WORLD);
    path_ = "/tmp/bilearn_test_operators_" + std::to_string(pid) + "_" + tag + ".bin";
  }
  ~TempFile() {
    MPI_Barrier(PETSC_COMM_WORLD);
    if (rank_of(PETSC_COMM_WORLD) == 0) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};


// |⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / (‖Ax‖‖y‖) for random x, y.
double adjoint_error(Mat A) {
  OwnedVec x0, y0;
  BILEARN_CHECK(MatCreateVecs(A, x0.out(), y0.out()));
  OwnedVec x = random_vec(x0, 11), y = random_vec(y0, 12), Ax, Aty;
  BILEARN_CHECK(VecDuplicate(y, Ax.out()));
  BILEARN_CHECK(VecDuplicate(x, Aty.out()));
  BILEARN_CHECK(MatMult(A, x, Ax));
  BILEARN_CHECK(MatMultTranspose(A, y, Aty));
  PetscScalar lhs = 0, rhs = 0;
  PetscReal nax = 0, ny = 0;
  BILEARN_CHECK(VecDot(Ax, y, &lhs));
  BILEARN_CHECK(VecDot(x, Aty, &rhs));
  BILEARN_CHECK(VecNorm(Ax, NORM_2, &nax));
  BILEARN_CHECK(VecNorm(y, NORM_2, &ny));
  return std::abs(lhs - rhs) / (nax * ny);
}

// Direct convolution in natural coordinates (independent of the assembled matrix).
std::vector<double> reference_blur(const std::vector<double>& x, PetscInt n, double sigma, PetscInt radius,
                                   bool reflexive) {
  std::vector<double> w;
  double total = 0;
  for (PetscInt dy = -radius; dy <= radius; ++dy)
    for (PetscInt dx = -radius; dx <= radius; ++dx) {
      w.push_back(std::exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)));
      total += w.back();
    }
  auto mirror = [n](PetscInt k) {  // single reflection suffices for radius < n
    return k < 0 ? -k - 1 : (k >= n ? 2 * n - 1 - k : k);
  };
  std::vector<double> out(x.size(), 0.0);
  for (PetscInt r = 0; r < n; ++r)
    for (PetscInt c = 0; c < n; ++c) {
      double sum = 0;
      size_t t = 0;
      for (PetscInt dy = -radius; dy <= radius; ++dy)
        for (PetscInt dx = -radius; dx <= radius; ++dx, ++t) {
          PetscInt rr = r + dy, cc = c + dx;
          const bool inside = rr >= 0 && rr < n && cc >= 0 && cc < n;
          if (!inside && !reflexive) continue;
          rr = mirror(rr);
          cc = mirror(cc);
          sum += w[t] / total * x[static_cast<size_t>(rr * n + cc)];
        }
      out[static_cast<size_t>(r * n + c)] = sum;
    }
  return out;
}

// The diagonal of A as a grid image in natural order on rank 0.
std::vector<PetscScalar> natural_diagonal(const ImageGrid& grid, Mat A) {
  OwnedVec d = grid.create_vec();
  BILEARN_CHECK(MatGetDiagonal(A, d));
  return grid.gather_natural(d);
}

// f(k) = a deterministic value per natural index, for rank-count comparisons.
PetscScalar pattern(PetscInt k) {
  return std::sin(0.37 * static_cast<double>(k)) + 0.1;
}

// y = C x with x_k = pattern(k) over C's column layout; y gathered to rank 0 of C's comm.
std::vector<PetscScalar> apply_to_pattern(Mat C) {
  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(C, x.out(), y.out()));
  PetscInt begin = 0, end = 0;
  BILEARN_CHECK(VecGetOwnershipRange(x, &begin, &end));
  {
    VecArray a(x);
    for (PetscInt k = begin; k < end; ++k) a[k - begin] = pattern(k);
  }
  BILEARN_CHECK(MatMult(C, x, y));
  OwnedScatter scatter;
  OwnedVec on_zero;
  BILEARN_CHECK(VecScatterCreateToZero(y, scatter.out(), on_zero.out()));
  BILEARN_CHECK(VecScatterBegin(scatter, y, on_zero, INSERT_VALUES, SCATTER_FORWARD));
  BILEARN_CHECK(VecScatterEnd(scatter, y, on_zero, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt m = 0;
  BILEARN_CHECK(VecGetLocalSize(on_zero, &m));
  ConstVecArray a(on_zero);
  return std::vector<PetscScalar>(a.data(), a.data() + m);
}

// The natural-ordered matrix applied to the pattern, on PETSC_COMM_WORLD and on one rank:
// max relative difference on rank 0 (0 elsewhere).
double natural_matrix_rank_difference(const char* type, PetscInt n) {
  const ImageGrid world(PETSC_COMM_WORLD, n), self(PETSC_COMM_SELF, n);
  const ForwardModel a = make_model(world, type), b = make_model(self, type);
  const OwnedMat ca = natural_ordered_matrix(a, world), cb = natural_ordered_matrix(b, self);
  const std::vector<PetscScalar> ya = apply_to_pattern(ca), yb = apply_to_pattern(cb);
  if (rank_of(PETSC_COMM_WORLD) != 0) return 0;
  EXPECT_EQ(ya.size(), yb.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ya.size() && i < yb.size(); ++i) {
    diff = std::max(diff, std::abs(ya[i] - yb[i]));
    scale = std::max(scale, std::abs(yb[i]));
  }
  return diff / scale;
}

void write_mat(Mat M, const std::string& path) {
  OwnedViewer viewer;
  BILEARN_CHECK(PetscViewerBinaryOpen(PetscObjectComm((PetscObject)M), path.c_str(), FILE_MODE_WRITE, viewer.out()));
  BILEARN_CHECK(MatView(M, viewer));
}

void write_vec(Vec v, const std::string& path) {
  OwnedViewer viewer;
  BILEARN_CHECK(PetscViewerBinaryOpen(PetscObjectComm((PetscObject)v), path.c_str(), FILE_MODE_WRITE, viewer.out()));
  BILEARN_CHECK(VecView(v, viewer));
}

// A sparse rows × N² matrix with natural columns, column layout of the grid's natural vector.
OwnedMat natural_test_matrix(const ImageGrid& grid, PetscInt rows) {
  const PetscInt cols = grid.pixels();
  OwnedMat M;
  BILEARN_CHECK(
      MatCreateAIJ(PETSC_COMM_WORLD, PETSC_DECIDE, grid.local_size(), rows, cols, 5, nullptr, 5, nullptr, M.out()));
  PetscInt begin = 0, end = 0;
  BILEARN_CHECK(MatGetOwnershipRange(M, &begin, &end));
  for (PetscInt i = begin; i < end; ++i)
    for (PetscInt k = 0; k < 5; ++k) {
      const PetscInt j = (i * 7 + k * 13) % cols;
      const PetscScalar v = std::sin(1.0 + i + 0.3 * k);
      BILEARN_CHECK(MatSetValues(M, 1, &i, 1, &j, &v, ADD_VALUES));
    }
  BILEARN_CHECK(MatAssemblyBegin(M, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(M, MAT_FINAL_ASSEMBLY));
  return M;
}

// Expects create_forward_model(type) to throw an InputError whose message contains text.
void expect_input_error(const ImageGrid& grid, const char* type, const std::string& text) {
  try {
    make_model(grid, type);
    ADD_FAILURE() << "expected an InputError containing '" << text << "'";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(text), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Blur

TEST(Blur, AdjointIdentityBothBoundaries) {
  const ImageGrid grid(PETSC_COMM_WORLD, 19);
  for (const char* boundary : {"reflexive", "zero"}) {
    ScopedOptions opts({{"-blur_boundary", boundary}, {"-blur_sigma", "1.3"}});
    const ForwardModel model = make_model(grid, "blur");
    EXPECT_TRUE(model.data_on_grid);
    EXPECT_LT(adjoint_error(model.A), 1e-14) << boundary;
  }
}

TEST(Blur, MatchesDirectConvolutionInNaturalCoordinates) {
  const PetscInt n = 17;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  struct Case {
    const char* boundary;
    const char* sigma;
    const char* radius;
  };
  for (const Case& c : {Case{"reflexive", "1.2", "3"}, Case{"zero", "1.2", "3"}, Case{"reflexive", "4", "16"},
                        Case{"zero", "2.5", "7"}}) {
    ScopedOptions opts({{"-blur_boundary", c.boundary}, {"-blur_sigma", c.sigma}, {"-blur_radius", c.radius}});
    const ForwardModel model = make_model(grid, "blur");
    std::vector<PetscScalar> natural(static_cast<size_t>(n * n));
    for (PetscInt k = 0; k < n * n; ++k) natural[static_cast<size_t>(k)] = pattern(k) + 0.01 * (k % 7);
    OwnedVec x = grid.create_vec(), y = grid.create_vec();
    grid.set_from_natural(natural, x);
    BILEARN_CHECK(MatMult(model.A, x, y));
    const std::vector<PetscScalar> got = grid.gather_natural(y);
    if (rank_of(PETSC_COMM_WORLD) == 0) {
      const std::vector<double> want =
          reference_blur(natural, n, std::atof(c.sigma), std::atoi(c.radius), std::string(c.boundary) == "reflexive");
      double err = 0;
      for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(got[i] - want[i]));
      EXPECT_LT(err, 1e-14) << c.boundary << " sigma " << c.sigma << " radius " << c.radius;
    }
  }
}

TEST(Blur, ReflexiveKeepsConstantsAndRowsSumToOne) {
  const ImageGrid grid(PETSC_COMM_WORLD, 16);
  ScopedOptions opts({{"-blur_sigma", "2.0"}});  // default radius 6, default boundary reflexive
  const ForwardModel model = make_model(grid, "blur");
  OwnedVec x = grid.create_vec(), y = grid.create_vec();
  BILEARN_CHECK(VecSet(x, 3.5));
  BILEARN_CHECK(MatMult(model.A, x, y));
  BILEARN_CHECK(VecShift(y, -3.5));
  PetscReal deviation = 0;
  BILEARN_CHECK(VecNorm(y, NORM_INFINITY, &deviation));
  EXPECT_LT(deviation, 1e-14);
  OwnedVec sums = grid.create_vec();
  BILEARN_CHECK(MatGetRowSum(model.A, sums));
  BILEARN_CHECK(VecShift(sums, -1.0));
  BILEARN_CHECK(VecNorm(sums, NORM_INFINITY, &deviation));
  EXPECT_LT(deviation, 1e-14);  // rounding of ~170 terms
}

TEST(Blur, ZeroBoundaryPsfSumsToOneInsideAndLessAtTheEdge) {
  const PetscInt n = 20, radius = 4;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  ScopedOptions opts({{"-blur_sigma", "1.5"}, {"-blur_boundary", "zero"}, {"-blur_radius", "4"}});
  const ForwardModel model = make_model(grid, "blur");
  OwnedVec sums = grid.create_vec();
  BILEARN_CHECK(MatGetRowSum(model.A, sums));
  const std::vector<PetscScalar> s = grid.gather_natural(sums);
  if (rank_of(PETSC_COMM_WORLD) == 0) {
    for (PetscInt row = 0; row < n; ++row)
      for (PetscInt col = 0; col < n; ++col) {
        const bool inside = row >= radius && row < n - radius && col >= radius && col < n - radius;
        const double v = s[static_cast<size_t>(row * n + col)];
        if (inside)
          EXPECT_NEAR(v, 1.0, 1e-14) << row << "," << col;
        else
          EXPECT_LT(v, 1.0 - 1e-3) << row << "," << col;
      }
  }
  // Exact preallocation: the assembled matrix holds (2R+1)² entries in interior rows only.
  MatInfo info;
  BILEARN_CHECK(MatGetInfo(model.A, MAT_GLOBAL_SUM, &info));
  EXPECT_EQ(info.nz_allocated, info.nz_used);
  EXPECT_EQ(info.mallocs, 0);
}

TEST(Blur, BadOptionsAreInputErrors) {
  const ImageGrid grid(PETSC_COMM_WORLD, 12);
  {
    ScopedOptions opts({{"-blur_sigma", "-1"}});
    expect_input_error(grid, "blur", "-blur_sigma");
  }
  {
    ScopedOptions opts({{"-blur_radius", "12"}});
    expect_input_error(grid, "blur", "-blur_radius");
  }
  {
    ScopedOptions opts({{"-blur_boundary", "periodic"}});
    expect_input_error(grid, "blur", "-blur_boundary");
  }
}

// ---------------------------------------------------------------------------------------
// Inpainting, identity

TEST(Inpaint, AdjointAndFractionKept) {
  const PetscInt n = 64;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  for (const char* fraction : {"0.3", "0.5", "0.85"}) {
    ScopedOptions opts({{"-inpaint_fraction", fraction}, {"-inpaint_seed", "7"}});
    const ForwardModel model = make_model(grid, "inpaint");
    EXPECT_TRUE(model.data_on_grid);
    EXPECT_LT(adjoint_error(model.A), 1e-14);
    MatInfo info;
    BILEARN_CHECK(MatGetInfo(model.A, MAT_GLOBAL_SUM, &info));
    const double kept = info.nz_used / static_cast<double>(n * n);
    // Binomial: standard deviation sqrt(f(1−f)/N²) ≤ 0.008; allow about 4 of them.
    EXPECT_NEAR(kept, std::atof(fraction), 0.03) << fraction;
    // A is a 0/1 diagonal: A x is x on kept pixels and 0 elsewhere.
    OwnedVec x = grid.create_vec(), y = grid.create_vec(), d = grid.create_vec();
    BILEARN_CHECK(VecSet(x, 2.0));
    BILEARN_CHECK(MatMult(model.A, x, y));
    BILEARN_CHECK(MatGetDiagonal(model.A, d));
    BILEARN_CHECK(VecAXPY(y, -2.0, d));
    PetscReal deviation = 0, dsum = 0;
    BILEARN_CHECK(VecNorm(y, NORM_INFINITY, &deviation));
    BILEARN_CHECK(VecSum(d, &dsum));
    EXPECT_EQ(deviation, 0.0);
    EXPECT_EQ(dsum, info.nz_used);
  }
  {
    ScopedOptions all({{"-inpaint_fraction", "1"}});
    MatInfo info;
    BILEARN_CHECK(MatGetInfo(make_model(grid, "inpaint").A, MAT_GLOBAL_SUM, &info));
    EXPECT_EQ(info.nz_used, n * n);
  }
  {
    ScopedOptions none({{"-inpaint_fraction", "0"}});
    MatInfo info;
    BILEARN_CHECK(MatGetInfo(make_model(grid, "inpaint").A, MAT_GLOBAL_SUM, &info));
    EXPECT_EQ(info.nz_used, 0);
  }
}

TEST(Inpaint, MaskIsTheSameOnAnyRankCount) {
  const PetscInt n = 37;
  const ImageGrid world(PETSC_COMM_WORLD, n), self(PETSC_COMM_SELF, n);
  ScopedOptions opts({{"-inpaint_fraction", "0.4"}, {"-inpaint_seed", "12345"}});
  const ForwardModel a = make_model(world, "inpaint"), b = make_model(self, "inpaint");
  OwnedVec da = world.create_vec(), db = self.create_vec();
  BILEARN_CHECK(MatGetDiagonal(a.A, da));
  BILEARN_CHECK(MatGetDiagonal(b.A, db));
  const std::uint64_t sum_world = natural_checksum(da, world.local_natural_indices());
  const std::uint64_t sum_self = natural_checksum(db, self.local_natural_indices());
  EXPECT_EQ(sum_world, sum_self);
  // Another seed gives another mask.
  ScopedOptions other({{"-inpaint_seed", "12346"}});
  const ForwardModel c = make_model(world, "inpaint");
  OwnedVec dc = world.create_vec();
  BILEARN_CHECK(MatGetDiagonal(c.A, dc));
  EXPECT_NE(natural_checksum(dc, world.local_natural_indices()), sum_world);
}

TEST(Inpaint, MaskFromFileAndBadMaskFiles) {
  const PetscInt n = 15;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  TempFile good("mask"), wrong_size("mask_size"), not_binary("mask_values");
  {  // a checkerboard-like mask in natural order: keep pixel k iff k % 3 != 0
    OwnedVec natural;
    BILEARN_CHECK(DMDACreateNaturalVector(grid.dm(), natural.out()));
    PetscInt begin = 0, end = 0;
    BILEARN_CHECK(VecGetOwnershipRange(natural, &begin, &end));
    {
      VecArray a(natural);
      for (PetscInt k = begin; k < end; ++k) a[k - begin] = k % 3 != 0 ? 1.0 : 0.0;
    }
    write_vec(natural, good.path());
    BILEARN_CHECK(VecSetValue(natural, 0, 0.5, INSERT_VALUES));
    BILEARN_CHECK(VecAssemblyBegin(natural));
    BILEARN_CHECK(VecAssemblyEnd(natural));
    write_vec(natural, not_binary.path());
    OwnedVec small;
    BILEARN_CHECK(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, n * n - 1, small.out()));
    BILEARN_CHECK(VecSet(small, 1.0));
    write_vec(small, wrong_size.path());
  }
  {
    ScopedOptions opts({{"-inpaint_mask_file", good.path().c_str()}});
    const ForwardModel model = make_model(grid, "inpaint");
    const std::vector<PetscScalar> d = natural_diagonal(grid, model.A);
    if (rank_of(PETSC_COMM_WORLD) == 0) {
      for (PetscInt k = 0; k < n * n; ++k) EXPECT_EQ(d[static_cast<size_t>(k)], k % 3 != 0 ? 1.0 : 0.0) << k;
    }
  }
  {
    ScopedOptions opts({{"-inpaint_mask_file", wrong_size.path().c_str()}});
    expect_input_error(grid, "inpaint", "has 224 values, the grid has 225 pixels");
  }
  {
    ScopedOptions opts({{"-inpaint_mask_file", not_binary.path().c_str()}});
    expect_input_error(grid, "inpaint", "only the values 0 and 1");
  }
  {
    ScopedOptions opts({{"-inpaint_mask_file", "/nonexistent/mask.bin"}});
    expect_input_error(grid, "inpaint", "cannot open mask file '/nonexistent/mask.bin'");
  }
}

TEST(Identity, IsTheIdentity) {
  const ImageGrid grid(PETSC_COMM_WORLD, 13);
  const ForwardModel model = make_model(grid, "denoise");
  EXPECT_TRUE(model.data_on_grid);
  EXPECT_LT(adjoint_error(model.A), 1e-14);
  OwnedVec x0 = grid.create_vec();
  OwnedVec x = random_vec(x0, 5), y = grid.create_vec();
  BILEARN_CHECK(MatMult(model.A, x, y));
  PetscBool equal = PETSC_FALSE;
  BILEARN_CHECK(VecEqual(x, y, &equal));
  EXPECT_TRUE(equal);
  MatInfo info;
  BILEARN_CHECK(MatGetInfo(model.A, MAT_GLOBAL_SUM, &info));
  EXPECT_EQ(info.nz_used, 13 * 13);
}

// ---------------------------------------------------------------------------------------
// User matrix

TEST(Matrix, NaturalColumnFileAppliesToGridVectors) {
  const PetscInt n = 14, rows = 37;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  TempFile file("natural");
  const OwnedMat M = natural_test_matrix(grid, rows);
  write_mat(M, file.path());
  ScopedOptions opts({{"-matrix_file", file.path().c_str()}});
  const ForwardModel model = make_model(grid, "matrix");
  EXPECT_FALSE(model.data_on_grid);
  EXPECT_EQ(model.data_rows, rows);
  EXPECT_EQ(model.data_cols, 1);
  EXPECT_LT(adjoint_error(model.A), 1e-14);
  // A x_grid == M x_natural.
  OwnedVec g = grid.create_vec();
  OwnedVec x = random_vec(g, 21), natural, y_file, y_model;
  BILEARN_CHECK(DMDACreateNaturalVector(grid.dm(), natural.out()));
  BILEARN_CHECK(DMDAGlobalToNaturalBegin(grid.dm(), x, INSERT_VALUES, natural));
  BILEARN_CHECK(DMDAGlobalToNaturalEnd(grid.dm(), x, INSERT_VALUES, natural));
  BILEARN_CHECK(MatCreateVecs(M, nullptr, y_file.out()));
  BILEARN_CHECK(MatCreateVecs(model.A, nullptr, y_model.out()));
  BILEARN_CHECK(MatMult(M, natural, y_file));
  BILEARN_CHECK(MatMult(model.A, x, y_model));
  PetscReal scale = 0, diff = 0;
  BILEARN_CHECK(VecNorm(y_file, NORM_INFINITY, &scale));
  BILEARN_CHECK(VecAXPY(y_model, -1.0, y_file));
  BILEARN_CHECK(VecNorm(y_model, NORM_INFINITY, &diff));
  EXPECT_GT(scale, 0.1);
  EXPECT_LT(diff, 1e-14 * scale);
}

TEST(Matrix, BlurWrittenInNaturalOrderRoundTrips) {
  const PetscInt n = 18;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  TempFile file("blur");
  ScopedOptions blur_opts({{"-blur_sigma", "1.1"}, {"-blur_boundary", "reflexive"}});
  const ForwardModel blur = make_model(grid, "blur");
  {
    const OwnedMat natural = natural_ordered_matrix(blur, grid);
    write_mat(natural, file.path());
  }
  ScopedOptions opts({{"-matrix_file", file.path().c_str()}});
  const ForwardModel loaded = make_model(grid, "matrix");
  OwnedVec g = grid.create_vec();
  OwnedVec x = random_vec(g, 31), y_blur = grid.create_vec(), y_loaded;
  BILEARN_CHECK(MatCreateVecs(loaded.A, nullptr, y_loaded.out()));
  BILEARN_CHECK(MatMult(blur.A, x, y_blur));
  BILEARN_CHECK(MatMult(loaded.A, x, y_loaded));
  const std::vector<PetscScalar> a = gather_data_natural(blur, grid, y_blur);
  const std::vector<PetscScalar> b = gather_data_natural(loaded, grid, y_loaded);
  if (rank_of(PETSC_COMM_WORLD) == 0) {
    ASSERT_EQ(a.size(), b.size());  // rank 0 only, no collective follows
    double err = 0;
    for (size_t i = 0; i < a.size(); ++i) err = std::max(err, std::abs(a[i] - b[i]));
    EXPECT_LT(err, 1e-15);
  }
}

TEST(Matrix, BadFilesAreOneLineInputErrors) {
  const PetscInt n = 10;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  TempFile garbled("garbled"), wrong("wrong"), truncated("truncated");
  if (rank_of(PETSC_COMM_WORLD) == 0) {
    std::ofstream out(garbled.path(), std::ios::binary);
    std::uint64_t state = 99;
    for (int i = 0; i < 4000; ++i) {
      state = mix64(state);
      out.put(static_cast<char>(state & 0xff));
    }
  }
  {
    const ImageGrid other(PETSC_COMM_WORLD, n + 1);
    write_mat(natural_test_matrix(other, 20), wrong.path());
    write_mat(natural_test_matrix(grid, 20), truncated.path());
  }
  if (rank_of(PETSC_COMM_WORLD) == 0) {  // cut the last value in half
    std::ifstream in(truncated.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::ofstream(truncated.path(), std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size() - 4);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  {
    ScopedOptions opts({{"-matrix_file", garbled.path().c_str()}});
    expect_input_error(grid, "matrix", "matrix file '" + garbled.path() + "' is not a PETSc binary matrix");
  }
  {
    ScopedOptions opts({{"-matrix_file", wrong.path().c_str()}});
    expect_input_error(grid, "matrix", "has 121 columns, the 10x10 grid needs 100");
  }
  {
    ScopedOptions opts({{"-matrix_file", truncated.path().c_str()}});
    expect_input_error(grid, "matrix", "is truncated or corrupt");
  }
  {
    ScopedOptions opts({{"-matrix_file", "/nonexistent/A.bin"}});
    expect_input_error(grid, "matrix", "cannot open matrix file '/nonexistent/A.bin'");
  }
  expect_input_error(grid, "matrix", "-matrix_file");
}

// ---------------------------------------------------------------------------------------
// Tomography through the factory, natural-order views

TEST(Tomo, AdjointIdentityParallelAndFan) {
  const ImageGrid grid(PETSC_COMM_WORLD, 16);
  for (const char* geometry : {"parallel", "fan"}) {
    ScopedOptions opts({{"-tomo_geometry", geometry}, {"-tomo_angles", "30"}});
    const ForwardModel model = make_model(grid, "tomo");
    EXPECT_FALSE(model.data_on_grid);
    EXPECT_LT(adjoint_error(model.A), 1e-14) << geometry;
  }
}

TEST(Tomo, StoredTransposeGivesTheSameProducts) {
  const ImageGrid grid(PETSC_COMM_WORLD, 20);
  ScopedOptions opts({{"-tomo_geometry", "fan"}, {"-tomo_angles", "40"}});
  ProblemOptions o;
  o.n = grid.n();
  o.transpose.choice = TransposeChoice::implicit;
  const ForwardModel plain = create_forward_model(grid, o);
  o.transpose.choice = TransposeChoice::stored;
  const ForwardModel stored = create_forward_model(grid, o);
  EXPECT_EQ(explicit_transpose(plain.A), nullptr);
  EXPECT_NE(explicit_transpose(stored.A), nullptr);
  EXPECT_LT(adjoint_error(stored.A), 1e-14);
  OwnedVec x0, y0;
  BILEARN_CHECK(MatCreateVecs(plain.A, x0.out(), y0.out()));
  OwnedVec y = random_vec(y0, 41), z = random_vec(x0, 42), a, b;
  BILEARN_CHECK(VecDuplicate(x0, a.out()));
  BILEARN_CHECK(VecDuplicate(x0, b.out()));
  BILEARN_CHECK(MatMultTranspose(plain.A, y, a));
  BILEARN_CHECK(MatMultTranspose(stored.A, y, b));
  PetscReal scale = 0, diff = 0;
  BILEARN_CHECK(VecNorm(a, NORM_INFINITY, &scale));
  BILEARN_CHECK(VecAXPY(b, -1.0, a));
  BILEARN_CHECK(VecNorm(b, NORM_INFINITY, &diff));
  EXPECT_LT(diff, 1e-13 * scale);
  // MatMultTransposeAdd: b = Aᵀy + z.
  BILEARN_CHECK(MatMultTransposeAdd(stored.A, y, z, b));
  BILEARN_CHECK(VecAXPY(b, -1.0, z));
  BILEARN_CHECK(VecAXPY(b, -1.0, a));
  BILEARN_CHECK(VecNorm(b, NORM_INFINITY, &diff));
  EXPECT_LT(diff, 1e-13 * scale);
}

TEST(NaturalOrder, NaturalMatrixIsTheSameOnAnyRankCount) {
  {
    ScopedOptions opts({{"-blur_sigma", "1.7"}});
    EXPECT_LT(natural_matrix_rank_difference("blur", 21), 1e-14);
  }
  {
    ScopedOptions opts({{"-inpaint_fraction", "0.6"}});
    EXPECT_LT(natural_matrix_rank_difference("inpaint", 21), 1e-15);
  }
  for (const char* geometry : {"parallel", "fan"}) {
    ScopedOptions opts({{"-tomo_geometry", geometry}, {"-tomo_angles", "24"}});
    EXPECT_LT(natural_matrix_rank_difference("tomo", 21), 1e-14) << geometry;
  }
}

TEST(NaturalOrder, NaturalMatrixPermutesRowsAndColumns) {
  // C x_natural == natural(A x_grid) for blur (rows on the grid).
  const PetscInt n = 15;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  const ForwardModel blur = make_model(grid, "blur");
  const OwnedMat C = natural_ordered_matrix(blur, grid);
  const std::vector<PetscScalar> via_c = apply_to_pattern(C);
  std::vector<PetscScalar> natural(static_cast<size_t>(n * n));
  for (PetscInt k = 0; k < n * n; ++k) natural[static_cast<size_t>(k)] = pattern(k);
  OwnedVec x = grid.create_vec(), y = grid.create_vec();
  grid.set_from_natural(natural, x);
  BILEARN_CHECK(MatMult(blur.A, x, y));
  const std::vector<PetscScalar> via_a = grid.gather_natural(y);
  if (rank_of(PETSC_COMM_WORLD) == 0) {
    double err = 0;
    for (size_t i = 0; i < via_a.size() && i < via_c.size(); ++i) err = std::max(err, std::abs(via_a[i] - via_c[i]));
    EXPECT_EQ(via_a.size(), via_c.size());
    EXPECT_LT(err, 1e-15);
  }
}

TEST(NaturalOrder, DataRoundTripsThroughNaturalOrder) {
  const PetscInt n = 12;
  const ImageGrid grid(PETSC_COMM_WORLD, n);
  ScopedOptions opts({{"-tomo_angles", "10"}});
  for (const char* type : {"blur", "tomo"}) {
    const ForwardModel model = make_model(grid, type);
    PetscInt m = 0;
    BILEARN_CHECK(MatGetSize(model.A, &m, nullptr));
    std::vector<PetscScalar> natural;
    if (rank_of(PETSC_COMM_WORLD) == 0)
      for (PetscInt k = 0; k < m; ++k) natural.push_back(pattern(k));
    OwnedVec data;
    BILEARN_CHECK(MatCreateVecs(model.A, nullptr, data.out()));
    set_data_from_natural(model, grid, natural, data);
    // Independent check of the layout: natural index of each local entry.
    bool layout_ok = true;
    {
      PetscInt begin = 0, end = 0;
      BILEARN_CHECK(VecGetOwnershipRange(data, &begin, &end));
      const std::vector<PetscInt> idx = model.data_on_grid ? grid.local_natural_indices() : std::vector<PetscInt>();
      ConstVecArray a(data);
      for (PetscInt i = 0; i < end - begin; ++i) {
        const PetscInt k = model.data_on_grid ? idx[static_cast<size_t>(i)] : begin + i;
        layout_ok = layout_ok && a[i] == pattern(k);
      }
    }
    EXPECT_TRUE(all_ranks(PETSC_COMM_WORLD, layout_ok)) << type;
    const std::vector<PetscScalar> back = gather_data_natural(model, grid, data);
    if (rank_of(PETSC_COMM_WORLD) == 0) {
      EXPECT_EQ(back, natural) << type;
    }
  }
  // A wrong size on rank 0 is an InputError on every rank.
  const ForwardModel model = make_model(grid, "blur");
  OwnedVec data = grid.create_vec();
  try {
    set_data_from_natural(model, grid, std::vector<PetscScalar>(5, 1.0), data);
    ADD_FAILURE() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("has 5 entries"), std::string::npos) << e.what();
  }
}
