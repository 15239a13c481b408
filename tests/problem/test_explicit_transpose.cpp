// The stored transpose (explicit_transpose.hpp): the same products as the AIJ kernel, the
// adjoint identity through it, for any rank count and with the value exchange split into
// many rounds (rows arriving out of order from several senders); -problem_store_transpose
// auto|true|false and -problem_transpose_max_mb (auto stores under the limit only); the
// memory it reports; bad option values as one-line InputErrors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "test_support.hpp"

using namespace bilearn;


const auto* const unfolded_tomography = ::testing::AddGlobalTestEnvironment(new bilearn_test::UnfoldedTomography);

namespace {

using bilearn_test::ScopedOptions;
using bilearn_test::random_vec;

ForwardModel tomo(const ImageGrid& grid, TransposeChoice choice, PetscReal max_mb = 2048) {
  ProblemOptions o;
  o.n = grid.n();
  o.transpose.choice = choice;
  o.transpose.max_mb = max_mb;
  return create_forward_model(grid, o);
}


// max |MatMultTranspose(A) y − implicit Aᵀ y| / max |implicit Aᵀ y| and the adjoint error
// |⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / (‖Ax‖‖y‖), both through whatever MatMultTranspose(A) does now.
struct TransposeCheck {
  double product_difference = 0, adjoint_error = 0;
};
TransposeCheck check_transpose(Mat A) {
  OwnedVec x0, y0;
  BILEARN_CHECK(MatCreateVecs(A, x0.out(), y0.out()));
  OwnedVec x = random_vec(x0, 7), y = random_vec(y0, 8), a, b, Ax;
  BILEARN_CHECK(VecDuplicate(x0, a.out()));
  BILEARN_CHECK(VecDuplicate(x0, b.out()));
  BILEARN_CHECK(VecDuplicate(y0, Ax.out()));
  mult_transpose_implicit(A, y, a);
  BILEARN_CHECK(MatMultTranspose(A, y, b));
  TransposeCheck c;
  PetscReal scale = 0, diff = 0;
  BILEARN_CHECK(VecNorm(a, NORM_INFINITY, &scale));
  BILEARN_CHECK(VecAXPY(b, -1.0, a));
  BILEARN_CHECK(VecNorm(b, NORM_INFINITY, &diff));
  c.product_difference = diff / scale;
  BILEARN_CHECK(MatMult(A, x, Ax));
  BILEARN_CHECK(MatMultTranspose(A, y, b));
  PetscScalar lhs = 0, rhs = 0;
  PetscReal nax = 0, ny = 0;
  BILEARN_CHECK(VecDot(Ax, y, &lhs));
  BILEARN_CHECK(VecDot(x, b, &rhs));
  BILEARN_CHECK(VecNorm(Ax, NORM_2, &nax));
  BILEARN_CHECK(VecNorm(y, NORM_2, &ny));
  c.adjoint_error = std::abs(lhs - rhs) / (nax * ny);
  return c;
}

double global_nnz(Mat A) {
  MatInfo info;
  BILEARN_CHECK(MatGetInfo(A, MAT_GLOBAL_SUM, &info));
  return info.nz_used;
}

void expect_options_error(ScopedOptions::List options, const std::string& text) {
  ScopedOptions opts(std::move(options));
  try {
    read_transpose_options(PETSC_COMM_WORLD);
    ADD_FAILURE() << "expected an InputError containing '" << text << "'";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_TRUE(bilearn_test::contains(what, text)) << what;
    EXPECT_FALSE(bilearn_test::contains(what, "\n")) << what;
  }
}

}  // namespace

TEST(StoredTranspose, SameProductsAsTheAijKernelAndAdjointIdentity) {
  for (const char* geometry : {"parallel", "fan"}) {
    ScopedOptions opts({{"-tomo_geometry", geometry}, {"-tomo_angles", "37"}});
    const ImageGrid grid(PETSC_COMM_WORLD, 23);
    const ForwardModel model = tomo(grid, TransposeChoice::stored);
    const Mat At = explicit_transpose(model.A);
    EXPECT_NE(At, nullptr);
    const TransposeCheck c = check_transpose(model.A);
    EXPECT_LT(c.product_difference, 1e-13) << geometry;
    EXPECT_LT(c.adjoint_error, 1e-14) << geometry;
    // Aᵀ holds exactly A's nonzeros, with A's sizes swapped.
    EXPECT_EQ(global_nnz(At), global_nnz(model.A));
    PetscInt m = 0, n = 0, mt = 0, nt = 0;
    BILEARN_CHECK(MatGetLocalSize(model.A, &m, &n));
    BILEARN_CHECK(MatGetLocalSize(At, &mt, &nt));
    EXPECT_EQ(mt, n);
    EXPECT_EQ(nt, m);
  }
}

TEST(StoredTranspose, ManySmallRoundsGiveTheSameMatrix) {
  const ImageGrid grid(PETSC_COMM_WORLD, 19);
  const ForwardModel once = tomo(grid, TransposeChoice::implicit), rounds = tomo(grid, TransposeChoice::implicit);
  EXPECT_TRUE(store_explicit_transpose(once.A));
  EXPECT_TRUE(store_explicit_transpose(rounds.A, 1e9, 5));  // ≤ 5 entries per sender and round
  PetscBool equal = PETSC_FALSE;
  BILEARN_CHECK(MatEqual(explicit_transpose(once.A), explicit_transpose(rounds.A), &equal));
  EXPECT_TRUE(equal);
  // And both equal PETSc's own transpose.
  OwnedMat reference;
  BILEARN_CHECK(MatTranspose(once.A, MAT_INITIAL_MATRIX, reference.out()));
  BILEARN_CHECK(MatEqual(explicit_transpose(rounds.A), reference, &equal));
  EXPECT_TRUE(equal);
  const TransposeCheck c = check_transpose(rounds.A);
  EXPECT_LT(c.product_difference, 1e-13);
  EXPECT_LT(c.adjoint_error, 1e-14);
}

TEST(StoredTranspose, MultTransposeAddThroughTheStoredTranspose) {
  const ImageGrid grid(PETSC_COMM_WORLD, 16);
  const ForwardModel model = tomo(grid, TransposeChoice::stored);
  OwnedVec x0, y0;
  BILEARN_CHECK(MatCreateVecs(model.A, x0.out(), y0.out()));
  OwnedVec y = random_vec(y0, 3), z = random_vec(x0, 4), a, b;
  BILEARN_CHECK(VecDuplicate(x0, a.out()));
  BILEARN_CHECK(VecDuplicate(x0, b.out()));
  mult_transpose_implicit(model.A, y, a);
  BILEARN_CHECK(VecAXPY(a, 1.0, z));
  BILEARN_CHECK(MatMultTransposeAdd(model.A, y, z, b));
  PetscReal scale = 0, diff = 0;
  BILEARN_CHECK(VecNorm(a, NORM_INFINITY, &scale));
  BILEARN_CHECK(VecAXPY(b, -1.0, a));
  BILEARN_CHECK(VecNorm(b, NORM_INFINITY, &diff));
  EXPECT_LT(diff, 1e-13 * scale);
}

TEST(StoredTranspose, AutoStoresUnderTheLimitOnly) {
  const ImageGrid grid(PETSC_COMM_WORLD, 24);
  const ForwardModel fits = tomo(grid, TransposeChoice::automatic);
  const ForwardModel too_big = tomo(grid, TransposeChoice::automatic, 1e-3);  // 1 KiB per rank
  const ForwardModel forced = tomo(grid, TransposeChoice::stored, 1e-3);      // true ignores the limit
  const ForwardModel never = tomo(grid, TransposeChoice::implicit);
  EXPECT_NE(explicit_transpose(fits.A), nullptr);
  EXPECT_EQ(explicit_transpose(too_big.A), nullptr);
  EXPECT_NE(explicit_transpose(forced.A), nullptr);
  EXPECT_EQ(explicit_transpose(never.A), nullptr);
  // Without a stored Aᵀ, MatMultTranspose is the AIJ kernel itself.
  const TransposeCheck c = check_transpose(too_big.A);
  EXPECT_EQ(c.product_difference, 0.0);

  // The reported memory: A on every rank, Aᵀ only when stored, and the limit in between.
  const OperatorStorage s = operator_storage(fits.A, PETSC_COMM_WORLD);
  const OperatorStorage none = operator_storage(too_big.A, PETSC_COMM_WORLD);
  EXPECT_TRUE(s.transpose_stored);
  EXPECT_FALSE(none.transpose_stored);
  EXPECT_GT(s.matrix_mb_max_rank, 1e-3);
  EXPECT_GT(s.transpose_mb_max_rank, 1e-3);
  EXPECT_LT(s.transpose_mb_max_rank, 2048);
  EXPECT_EQ(none.transpose_mb_max_rank, 0.0);
  EXPECT_EQ(none.matrix_mb_max_rank, s.matrix_mb_max_rank);
  // A limit just above the largest rank's Aᵀ stores it, just below does not.
  const ForwardModel above = tomo(grid, TransposeChoice::automatic, s.transpose_mb_max_rank * 1.001);
  const ForwardModel below = tomo(grid, TransposeChoice::automatic, s.transpose_mb_max_rank * 0.999);
  EXPECT_NE(explicit_transpose(above.A), nullptr);
  EXPECT_EQ(explicit_transpose(below.A), nullptr);
}

TEST(StoredTranspose, OptionsParseAndDefaultToAuto) {
  TransposeOptions o = read_transpose_options(PETSC_COMM_WORLD);
  EXPECT_EQ(o.choice, TransposeChoice::automatic);
  EXPECT_EQ(o.max_mb, 2048);
  {
    ScopedOptions opts({{"-problem_store_transpose", "true"}, {"-problem_transpose_max_mb", "12.5"}});
    o = read_transpose_options(PETSC_COMM_WORLD);
    EXPECT_EQ(o.choice, TransposeChoice::stored);
    EXPECT_EQ(o.max_mb, 12.5);
  }
  {
    ScopedOptions opts({{"-problem_store_transpose", "false"}});
    EXPECT_EQ(read_transpose_options(PETSC_COMM_WORLD).choice, TransposeChoice::implicit);
  }
  {
    ScopedOptions opts({{"-problem_store_transpose", "auto"}, {"-problem_transpose_max_mb", "0"}});
    const ProblemOptions p = read_problem_options(PETSC_COMM_WORLD);
    EXPECT_EQ(p.transpose.choice, TransposeChoice::automatic);
    const ImageGrid grid(PETSC_COMM_WORLD, 12);
    EXPECT_EQ(explicit_transpose(create_forward_model(grid, p).A), nullptr);  // nothing fits in 0 MiB
  }
  expect_options_error({{"-problem_store_transpose", "maybe"}}, "-problem_store_transpose");
  expect_options_error({{"-problem_transpose_max_mb", "-1"}}, "-problem_transpose_max_mb");
}
