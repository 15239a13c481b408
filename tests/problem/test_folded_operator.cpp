// The folded tomography operator (folded_operator.hpp, -tomo_fold): rows A_p T_t give the
// assembled A's products (to the round-off of tracing a ray from the other side), adjoint
// products, b-column products equal to b single ones with and without A_hᵀ stored, P and Pᵀ
// adjoint, the assembled A's nonzero count and Frobenius norm, the same synthetic data, and
// no folding where the angles have no rotation symmetry. Any rank count.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/problem/dataset.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/folded_operator.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "test_support.hpp"

using namespace bilearn;

namespace {

using bilearn_test::random_vec;
using bilearn_test::ScopedOptions;

ForwardModel tomo(const ImageGrid& grid, const char* fold, const char* store_transpose = "false",
                  const char* transposed_mb = "12") {
  ScopedOptions options({{"-tomo_fold", fold},
                         {"-problem_store_transpose", store_transpose},
                         {"-tomo_fold_transposed_mb", transposed_mb}});
  ProblemOptions o = read_problem_options(grid.comm());
  o.n = grid.n();
  return create_forward_model(grid, o);
}

// max |a − b| / max |b|.
double relative_difference(Vec a, Vec b) {
  OwnedVec d;
  BILEARN_CHECK(VecDuplicate(a, d.out()));
  BILEARN_CHECK(VecWAXPY(d, -1.0, b, a));
  PetscReal dn = 0, bn = 0;
  BILEARN_CHECK(VecNorm(d, NORM_INFINITY, &dn));
  BILEARN_CHECK(VecNorm(b, NORM_INFINITY, &bn));
  return dn / bn;
}

// Products of the folded and the assembled operator, and the folded one's adjoint identity.
void expect_same_products(const ForwardModel& folded, const ForwardModel& whole, const std::string& tag) {
  OwnedVec x0, y0;
  BILEARN_CHECK(MatCreateVecs(whole.A, x0.out(), y0.out()));
  OwnedVec x = random_vec(x0, 3), y = random_vec(y0, 4), a, b, u, v;
  BILEARN_CHECK(VecDuplicate(y0, a.out()));
  BILEARN_CHECK(VecDuplicate(y0, b.out()));
  BILEARN_CHECK(VecDuplicate(x0, u.out()));
  BILEARN_CHECK(VecDuplicate(x0, v.out()));
  BILEARN_CHECK(MatMult(folded.A, x, a));
  BILEARN_CHECK(MatMult(whole.A, x, b));
  EXPECT_LT(relative_difference(a, b), 1e-12) << tag;
  BILEARN_CHECK(MatMultTranspose(folded.A, y, u));
  BILEARN_CHECK(MatMultTranspose(whole.A, y, v));
  EXPECT_LT(relative_difference(u, v), 1e-12) << tag;
  PetscScalar ax_y = 0, x_aty = 0;
  PetscReal ax = 0, yn = 0;
  BILEARN_CHECK(VecDot(a, y, &ax_y));
  BILEARN_CHECK(VecDot(x, u, &x_aty));
  BILEARN_CHECK(VecNorm(a, NORM_2, &ax));
  BILEARN_CHECK(VecNorm(y, NORM_2, &yn));
  EXPECT_LT(std::abs(ax_y - x_aty) / (ax * yn), 1e-14) << tag;
}

TEST(FoldedOperator, DefaultGeometryFoldsAndGivesTheAssembledProducts) {
  for (PetscInt n : {16, 17}) {
    const ImageGrid grid(PETSC_COMM_WORLD, n);
    const ForwardModel folded = tomo(grid, "true"), whole = tomo(grid, "false");
    const std::string tag = "N = " + std::to_string(n);
    // 180 angles from 0°: four rows per stored row for angles 46° .. 89°, two for 0° and 45°.
    ASSERT_EQ(folded_parts(folded.A).size(), 2u) << tag;
    EXPECT_FALSE(is_folded(whole.A)) << tag;
    expect_same_products(folded, whole, tag);
    MatInfo fi, wi;
    BILEARN_CHECK(MatGetInfo(folded.A, MAT_GLOBAL_SUM, &fi));
    BILEARN_CHECK(MatGetInfo(whole.A, MAT_GLOBAL_SUM, &wi));
    EXPECT_EQ(fi.nz_used, wi.nz_used) << tag;
    PetscReal ff = 0, wf = 0;
    BILEARN_CHECK(MatNorm(folded.A, NORM_FROBENIUS, &ff));
    BILEARN_CHECK(MatNorm(whole.A, NORM_FROBENIUS, &wf));
    EXPECT_NEAR(ff, wf, 1e-12 * wf) << tag;
    // A quarter of the matrix is stored (and a little more for 0° and 45°).
    EXPECT_LT(local_stored_bytes(folded.A), 0.3 * local_stored_bytes(whole.A) + 1024) << tag;
  }
}

TEST(FoldedOperator, OtherSymmetricGeometriesFoldWhereTheRaysAgree) {
  // A shifted start, other detectors, the fan beam over 360°: folded or not, A is A.
  const std::vector<ScopedOptions::List> cases = {
      {{"-tomo_angles", "30"}, {"-tomo_angle_start", "7.5"}},
      {{"-tomo_angles", "24"}, {"-tomo_rays", "31"}, {"-tomo_width", "15"}},
      {{"-tomo_geometry", "fan"}, {"-tomo_angles", "40"}, {"-tomo_angle_range", "360"}},
  };
  const ImageGrid grid(PETSC_COMM_WORLD, 16);
  for (const auto& c : cases) {
    ScopedOptions options(c);
    std::string tag;
    for (const auto& [name, value] : c) tag += name + " " + value + " ";
    const ForwardModel folded = tomo(grid, "true"), whole = tomo(grid, "false");
    const size_t parts = folded_parts(folded.A).size();
    expect_same_products(folded, whole, tag + "(" + std::to_string(parts) + " parts)");
  }
  // A shifted start keeps the pairs θ, θ + 90° (not the mirror pairs): one part, two rows each.
  ScopedOptions shifted({{"-tomo_angles", "30"}, {"-tomo_angle_start", "7.5"}});
  EXPECT_EQ(folded_parts(tomo(grid, "true").A).size(), 1u);
}

TEST(FoldedOperator, NoFoldWithoutRotationSymmetry) {
  const ImageGrid grid(PETSC_COMM_WORLD, 12);
  for (const ScopedOptions::List& c : std::vector<ScopedOptions::List>{
           {{"-tomo_angles", "45"}},                                // odd: no pairs
           {{"-tomo_angles", "20"}, {"-tomo_angle_range", "150"}},  // pairs 75° apart
       }) {
    ScopedOptions options(c);
    const ForwardModel model = tomo(grid, "true");
    EXPECT_FALSE(is_folded(model.A)) << c.front().first << " " << c.front().second;
  }
}

// b interlaced columns: b single products, with A_hᵀ stored and without.
// Also with the forward product through the stored transposes (-tomo_fold_transposed_mb 0;
// the default switches to it only for large images): the same products as the whole A.
TEST(FoldedOperator, BlockProductsEqualSingleProducts) {
  const ImageGrid grid(PETSC_COMM_WORLD, 15);
  const ForwardModel whole = tomo(grid, "false");
  const std::vector<std::pair<const char*, const char*>> storage_and_threshold = {
      {"true", "12"}, {"true", "0"}, {"false", "0"}};
  for (const auto& [store, transposed_mb] : storage_and_threshold) {
    const ForwardModel model = tomo(grid, "true", store, transposed_mb);
    ASSERT_TRUE(is_folded(model.A));
    for (Mat part : folded_parts(model.A)) EXPECT_EQ(explicit_transpose(part) != nullptr, std::string(store) == "true");
    const PetscInt b = 3;
    const OwnedMat block = block_operator(model.A, b);
    OwnedVec xs0, ys0, X0, Y0;
    BILEARN_CHECK(MatCreateVecs(model.A, xs0.out(), ys0.out()));
    BILEARN_CHECK(MatCreateVecs(block, X0.out(), Y0.out()));
    OwnedVec X = random_vec(X0, 11), Y = random_vec(Y0, 12), AX, AtY;
    BILEARN_CHECK(VecDuplicate(Y0, AX.out()));
    BILEARN_CHECK(VecDuplicate(X0, AtY.out()));
    BILEARN_CHECK(MatMult(block, X, AX));
    BILEARN_CHECK(MatMultTranspose(block, Y, AtY));
    for (PetscInt s = 0; s < b; ++s) {
      OwnedVec x, y, ax, aty, ax_block, aty_block;
      BILEARN_CHECK(VecDuplicate(xs0, x.out()));
      BILEARN_CHECK(VecDuplicate(ys0, y.out()));
      BILEARN_CHECK(VecDuplicate(ys0, ax.out()));
      BILEARN_CHECK(VecDuplicate(xs0, aty.out()));
      BILEARN_CHECK(VecDuplicate(ys0, ax_block.out()));
      BILEARN_CHECK(VecDuplicate(xs0, aty_block.out()));
      BILEARN_CHECK(VecStrideGather(X, s, x, INSERT_VALUES));
      BILEARN_CHECK(VecStrideGather(Y, s, y, INSERT_VALUES));
      BILEARN_CHECK(VecStrideGather(AX, s, ax_block, INSERT_VALUES));
      BILEARN_CHECK(VecStrideGather(AtY, s, aty_block, INSERT_VALUES));
      BILEARN_CHECK(MatMult(model.A, x, ax));
      BILEARN_CHECK(MatMultTranspose(model.A, y, aty));
      EXPECT_LT(relative_difference(ax_block, ax), 1e-15) << store << " " << transposed_mb << " column " << s;
      EXPECT_LT(relative_difference(aty_block, aty), 1e-15) << store << " " << transposed_mb << " column " << s;
      BILEARN_CHECK(MatMult(whole.A, x, ax_block));
      BILEARN_CHECK(MatMultTranspose(whole.A, y, aty_block));
      EXPECT_LT(relative_difference(ax, ax_block), 1e-12) << store << " " << transposed_mb << " column " << s;
      EXPECT_LT(relative_difference(aty, aty_block), 1e-12) << store << " " << transposed_mb << " column " << s;
    }
    // One column: A itself.
    const OwnedMat one = block_operator(model.A, 1);
    EXPECT_EQ(one.get(), model.A.get());
  }
}

// Block widths on PETSc's unrolled MAIJ kernels (1–11, 16, 18 components): the four-way fold has
// parts of 4 and 2 transforms, so 3 columns (12 components) run as 4; an assembled A's MAIJ has
// b components.
TEST(FoldedOperator, FastBlockColumnsAvoidTheGenericMaijKernel) {
  const ImageGrid grid(PETSC_COMM_WORLD, 16);
  const ForwardModel folded = tomo(grid, "true"), whole = tomo(grid, "false");
  ASSERT_TRUE(is_folded(folded.A));
  EXPECT_EQ(fast_block_columns(folded.A, 1, 4), 1);
  EXPECT_EQ(fast_block_columns(folded.A, 2, 4), 2);
  EXPECT_EQ(fast_block_columns(folded.A, 3, 4), 4);
  EXPECT_EQ(fast_block_columns(folded.A, 3, 3), 3);  // nothing faster allowed: b itself
  EXPECT_EQ(fast_block_columns(folded.A, 5, 8), 5);  // 20, 24, 28, 32 components: none unrolled
  EXPECT_EQ(fast_block_columns(whole.A, 3, 4), 3);
  EXPECT_EQ(fast_block_columns(whole.A, 12, 20), 16);
}

// diag(AᵀA) as Σ_p Σ_t T_tᵀ diag(A_pᵀA_p): the transposed transforms put each part's column
// sums where the assembled A has them.
TEST(FoldedOperator, SumsOverTransformsGiveTheColumnsOfA) {
  const ImageGrid grid(PETSC_COMM_WORLD, 13);
  const ForwardModel folded = tomo(grid, "true"), whole = tomo(grid, "false");
  ASSERT_TRUE(is_folded(folded.A));
  const auto squared_column_norms = [](Mat M) {
    PetscInt cols = 0, first = 0, last = 0;
    BILEARN_CHECK(MatGetSize(M, nullptr, &cols));
    std::vector<PetscReal> norms(static_cast<size_t>(cols));
    BILEARN_CHECK(MatGetColumnNorms(M, NORM_2, norms.data()));
    OwnedVec v;
    BILEARN_CHECK(MatCreateVecs(M, v.out(), nullptr));
    BILEARN_CHECK(VecGetOwnershipRange(v, &first, &last));
    for (PetscInt j = first; j < last; ++j) {
      const PetscScalar value = norms[static_cast<size_t>(j)] * norms[static_cast<size_t>(j)];
      BILEARN_CHECK(VecSetValue(v, j, value, INSERT_VALUES));
    }
    BILEARN_CHECK(VecAssemblyBegin(v));
    BILEARN_CHECK(VecAssemblyEnd(v));
    return v;
  };
  OwnedVec from_parts = grid.create_vec();
  folded_sum_over_transforms(folded.A, from_parts, squared_column_norms);
  const OwnedVec expected = squared_column_norms(whole.A);
  EXPECT_LT(relative_difference(from_parts, expected), 1e-12);
}

TEST(FoldedOperator, ReproducibleForwardMatchesTheAssembledOne) {
  const ImageGrid grid(PETSC_COMM_WORLD, 14);
  const ForwardModel folded = tomo(grid, "true"), whole = tomo(grid, "false");
  OwnedVec x0, y0;
  BILEARN_CHECK(MatCreateVecs(whole.A, x0.out(), y0.out()));
  OwnedVec x = random_vec(x0, 9), a, b;
  BILEARN_CHECK(VecDuplicate(y0, a.out()));
  BILEARN_CHECK(VecDuplicate(y0, b.out()));
  apply_forward_reproducible(folded, x, a);
  apply_forward_reproducible(whole, x, b);
  EXPECT_LT(relative_difference(a, b), 1e-12);
  // And the folded operator's own product, to summation order.
  BILEARN_CHECK(MatMult(folded.A, x, b));
  EXPECT_LT(relative_difference(a, b), 1e-14);
}

}  // namespace
