// rcg against KSPCG: with an empty space the iterations are those of KSPCG (counts and residual
// history); recycled solutions agree with a tight reference; an indefinite operator is
// reported as KSP_DIVERGED_INDEFINITE_MAT instead of producing garbage.
#include <gtest/gtest.h>

#include <cmath>

#include "problems.hpp"

using namespace krylov_test;

TEST(RCG, EmptySpaceReproducesCg) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 24, 0.0, 0.05, 71);
  OwnedVec b = random_vec(a, 72);
  for (const char* k : {"0", "10"}) {
    for (bool guess : {false, true}) {
      const std::string tag = std::string(k) + (guess ? "g" : "z");
      OwnedKSP ref = make_ksp(comm, KSPCG, "cgref" + tag + "_", 1e-8);
      OwnedKSP rec = make_ksp(comm, KSPRCG, "cgrec" + tag + "_", 1e-8, {{"-ksp_recycle_k", k}});
      OwnedVec x1 = random_vec(a, 73), x2 = random_vec(a, 73);
      const SolveResult r1 = solve(ref, a, b, x1, guess);
      const SolveResult r2 = solve(rec, a, b, x2, guess);
      EXPECT_EQ(r1.its, r2.its) << tag;
      EXPECT_EQ(r1.reason, r2.reason) << tag;
      ASSERT_EQ(r1.history.size(), r2.history.size()) << tag;
      double worst = 0;
      for (size_t i = 0; i < r1.history.size(); ++i)
        worst = std::max(worst, std::abs(r1.history[i] - r2.history[i]) / r1.history[0]);
      EXPECT_LT(worst, 1e-13) << tag;
      EXPECT_LT(relative_difference(x2, x1), 1e-12) << tag;
    }
  }
}

TEST(RCG, RecycledSolutionsMatchCg) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedKSP rec = make_ksp(comm, KSPRCG, "rcgseq_", 1e-9, {{"-ksp_recycle_k", "12"}, {"-ksp_recycle_select", "ritz_s"}});
  OwnedKSP ref = make_ksp(comm, KSPCG, "rcgseqref_", 1e-12);
  OwnedMat a0 = laplacian(comm, 24, 0.0, 0.05, 74);
  OwnedVec x;
  BILEARN_CHECK(MatCreateVecs(a0, x.out(), nullptr));
  BILEARN_CHECK(VecSet(x, 0.0));
  PetscInt first = 0, last = 0;
  for (int t = 0; t < 4; ++t) {
    OwnedMat a = laplacian(comm, 24, -0.002 * t, 0.05, 74);
    OwnedVec b = random_vec(a, 75 + t), xr;
    const SolveResult r = solve(rec, a, b, x, true);
    BILEARN_CHECK(VecDuplicate(b, xr.out()));
    BILEARN_CHECK(VecSet(xr, 0.0));
    solve(ref, a, b, xr, false);
    EXPECT_GT(r.reason, 0);
    EXPECT_LT(relative_residual(a, b, x), 2e-9) << t;
    EXPECT_LT(relative_difference(x, xr), 1e-6) << t;
    if (t == 0) first = r.its;
    last = r.its;
  }
  EXPECT_LT(last, first);
}

TEST(RCG, NegativeCurvatureIsReported) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 16, 1.0, 0.5, 76);  // clearly indefinite
  OwnedVec b = random_vec(a, 77), x;
  BILEARN_CHECK(VecDuplicate(b, x.out()));
  OwnedKSP rec = make_ksp(comm, KSPRCG, "rcgind_", 1e-9, {{"-ksp_recycle_k", "6"}});
  const SolveResult r = solve(rec, a, b, x, false);
  EXPECT_EQ(r.reason, KSP_DIVERGED_INDEFINITE_MAT);
  PetscReal nx = 0;
  BILEARN_CHECK(VecNorm(x, NORM_2, &nx));
  EXPECT_TRUE(std::isfinite(nx));
  // after the failed solve the KSP is still usable on an SPD system
  OwnedMat spd = laplacian(comm, 16, 0.0, 0.5, 76);
  const SolveResult r2 = solve(rec, spd, b, x, false);
  EXPECT_GT(r2.reason, 0);
  EXPECT_LT(relative_residual(spd, b, x), 2e-9);
}
