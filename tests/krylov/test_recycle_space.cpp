// The recycle space: C = H U with CᵀC = I after prepare; spaces that cannot be used (another
// layout, NaN/Inf, dependent columns, a stale carried product) are detected, reported and
// discarded or trimmed, and the solve still succeeds with the right answer; the operator split
// H = F + R recomputes only R·U.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "bilearn/core/reduce.hpp"
#include "krylov/recycle/recycle_space.hpp"
#include "problems.hpp"

using namespace krylov_test;
using bilearn::krylov::PrepareReport;
using bilearn::krylov::RecycleSpace;
using bilearn::krylov::VecBlock;

namespace {

// ‖H u_j − c_j‖ max over j, and ‖CᵀC − I‖_F
void check_prepared(Mat a, RecycleSpace& space, double tol) {
  OwnedVec t;
  BILEARN_CHECK(MatCreateVecs(a, t.out(), nullptr));
  double worst = 0;
  for (PetscInt j = 0; j < space.dim(); ++j) {
    BILEARN_CHECK(MatMult(a, space.u()[j], t));
    BILEARN_CHECK(VecAXPY(t, -1.0, space.c()[j]));
    PetscReal n = 0;
    BILEARN_CHECK(VecNorm(t, NORM_2, &n));
    worst = std::max(worst, static_cast<double>(n));
  }
  EXPECT_LT(worst, tol) << "H U != C";
  EXPECT_LT(space.orthogonality_loss(), tol) << "C not orthonormal";
}

// Solves a x = b with the KSP and checks the answer against a tight KSPMINRES solve.
void expect_correct_solve(KSP ksp, Mat a, Vec b, const char* what) {
  OwnedVec x, xr;
  BILEARN_CHECK(VecDuplicate(b, x.out()));
  BILEARN_CHECK(VecDuplicate(b, xr.out()));
  const SolveResult r = solve(ksp, a, b, x, false);
  OwnedKSP ref = make_ksp(PetscObjectComm((PetscObject)a), KSPMINRES, std::string("cs_ref_") + what + "_", 1e-12);
  solve(ref, a, b, xr, false);
  EXPECT_GT(r.reason, 0) << what;
  EXPECT_LT(relative_residual(a, b, x), 2e-8) << what;
  EXPECT_LT(relative_difference(x, xr), 1e-5) << what;
}

}  // namespace

TEST(RecycleSpace, PrepareGivesHUEqualsCOrthonormal) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 16, 0.4, 1.0, 21);
  std::vector<OwnedVec> vs;
  std::vector<Vec> raw;
  for (int i = 0; i < 7; ++i) {
    vs.push_back(random_vec(a, 200 + i));
    raw.push_back(vs.back());
  }
  RecycleSpace space;
  space.set_capacity(7);
  space.set_basis(7, raw.data());
  OwnedVec work;
  BILEARN_CHECK(MatCreateVecs(a, work.out(), nullptr));
  const PrepareReport rep = space.prepare(a, nullptr, nullptr, work, work, bilearn::krylov::PrepareTolerances{});
  EXPECT_EQ(rep.dim, 7);
  EXPECT_EQ(rep.dropped, 0);
  EXPECT_EQ(rep.operator_applies, 7);
  EXPECT_STREQ(rep.source, "apply");
  EXPECT_TRUE(rep.message.empty());
  check_prepared(a, space, 1e-12);
}

TEST(RecycleSpace, DependentColumnsAreDroppedAndReported) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 16, 0.0, 1.0, 21);
  OwnedVec v0 = random_vec(a, 300), v1 = random_vec(a, 301), v2, v3;
  BILEARN_CHECK(VecDuplicate(v0, v2.out()));
  BILEARN_CHECK(VecWAXPY(v2, 2.0, v0, v1));  // v2 = 2 v0 + v1
  BILEARN_CHECK(VecDuplicate(v0, v3.out()));
  BILEARN_CHECK(VecCopy(v0, v3));  // duplicate
  Vec raw[4] = {v0, v1, v2, v3};
  RecycleSpace space;
  space.set_capacity(6);
  space.set_basis(4, raw);
  OwnedVec work;
  BILEARN_CHECK(MatCreateVecs(a, work.out(), nullptr));
  const PrepareReport rep = space.prepare(a, nullptr, nullptr, work, work, bilearn::krylov::PrepareTolerances{});
  EXPECT_EQ(rep.dim, 2);
  EXPECT_EQ(rep.dropped, 2);
  EXPECT_NE(rep.message.find("dropped 2 of 4"), std::string::npos) << rep.message;
  check_prepared(a, space, 1e-12);
}

TEST(RecycleSpace, KspDetectsForeignSizeNanAndDependentSpaces) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 20, 0.3, 1.0, 31);
  OwnedVec b = random_vec(a, 32);
  // 1. a space from a problem of another size
  {
    OwnedKSP ksp = make_ksp(comm, KSPRMINRES, "ds_size_", 1e-9, {{"-ksp_recycle_k", "8"}});
    OwnedMat small = laplacian(comm, 12, 0.0, 1.0, 31);
    std::vector<OwnedVec> vs;
    std::vector<Vec> raw;
    for (int i = 0; i < 5; ++i) {
      vs.push_back(random_vec(small, 400 + i));
      raw.push_back(vs.back());
    }
    BILEARN_CHECK(KSPRecycleSetSpace(ksp, 5, raw.data()));
    expect_correct_solve(ksp, a, b, "size");
    const KSPRecycleInfo inf = info(ksp);
    EXPECT_EQ(inf.resets, 1);
    EXPECT_EQ(inf.dim, 0);
    EXPECT_NE(std::string(inf.message).find("144 rows"), std::string::npos) << inf.message;
    EXPECT_NE(std::string(inf.message).find("has 400"), std::string::npos) << inf.message;
    EXPECT_EQ(inf.next_dim, 8);  // a fresh space was built by the solve
  }
  // 2. NaN injected into the KSP's own space between two solves
  {
    OwnedKSP ksp = make_ksp(comm, KSPRMINRES, "ds_nan_", 1e-9, {{"-ksp_recycle_k", "8"}});
    expect_correct_solve(ksp, a, b, "nan-first");
    PetscInt n = 0;
    const Vec* space = nullptr;
    BILEARN_CHECK(KSPRecycleGetSpace(ksp, &n, &space));
    EXPECT_EQ(n, 8);
    if (root()) BILEARN_CHECK(VecSetValue(space[3], 0, std::nan(""), INSERT_VALUES));
    BILEARN_CHECK(VecAssemblyBegin(space[3]));
    BILEARN_CHECK(VecAssemblyEnd(space[3]));
    expect_correct_solve(ksp, a, b, "nan");
    const KSPRecycleInfo inf = info(ksp);
    EXPECT_EQ(inf.resets, 1);
    EXPECT_NE(std::string(inf.message).find("NaN"), std::string::npos) << inf.message;
  }
  // 3. a rank-deficient space: duplicated and combined columns
  {
    OwnedKSP ksp = make_ksp(comm, KSPRMINRES, "ds_rank_", 1e-9, {{"-ksp_recycle_k", "8"}});
    OwnedVec v0 = random_vec(a, 500), v1 = random_vec(a, 501), v2;
    BILEARN_CHECK(VecDuplicate(v0, v2.out()));
    BILEARN_CHECK(VecWAXPY(v2, -3.0, v1, v0));
    Vec raw[5] = {v0, v1, v2, v0, v1};
    BILEARN_CHECK(KSPRecycleSetSpace(ksp, 5, raw));
    expect_correct_solve(ksp, a, b, "rank");
    const KSPRecycleInfo inf = info(ksp);
    EXPECT_EQ(inf.dim, 2);
    EXPECT_EQ(inf.dropped, 3);
    EXPECT_EQ(inf.resets, 0);
    EXPECT_NE(std::string(inf.message).find("dropped 3 of 5"), std::string::npos) << inf.message;
  }
}

namespace {
// A shell operator whose matrix can be swapped without changing the shell's object state: the
// way a careless Hessian MatShell would go stale.
struct Swappable {
  Mat current = nullptr;
  static PetscErrorCode mult(Mat m, Vec x, Vec y) {
    Swappable* s = nullptr;
    PetscCall(MatShellGetContext(m, &s));
    PetscCall(MatMult(s->current, x, y));
    return 0;
  }
};
}  // namespace

// Two layers catch an operator changed behind the KSP's back: the one-apply probe of the carried
// product (recomputed before the solve), and with the probe off, the true-residual check after it.
TEST(RecycleSpace, StaleCarriedProductIsCaughtByTheProbeOrTheResidualCheck) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  for (const bool probe : {true, false}) {
    OwnedMat a1 = laplacian(comm, 20, 0.3, 1.0, 41), a2 = laplacian(comm, 20, 0.9, 2.0, 42);
    Swappable ctx{a1};
    PetscInt nloc = 0, n = 0;
    BILEARN_CHECK(MatGetLocalSize(a1, &nloc, nullptr));
    BILEARN_CHECK(MatGetSize(a1, &n, nullptr));
    OwnedMat shell;
    BILEARN_CHECK(MatCreateShell(comm, nloc, nloc, n, n, &ctx, shell.out()));
    BILEARN_CHECK(MatShellSetOperation(shell, MATOP_MULT, (void (*)(void))Swappable::mult));
    OwnedKSP ksp = make_ksp(comm, KSPRMINRES, probe ? "stale_probe_" : "stale_check_", 1e-9,
                            {{"-ksp_recycle_k", "10"}, {"-ksp_recycle_probe_tol", probe ? "1e-10" : "0"}});
    OwnedVec b = random_vec(a1, 43), x;
    BILEARN_CHECK(VecDuplicate(b, x.out()));
    solve(ksp, shell, b, x, false);
    solve(ksp, shell, b, x, false);  // the operator repeats: H·Ũ is now carried to the next solve
    ctx.current = a2;                // the operator changed behind the KSP's back
    const SolveResult r = solve(ksp, shell, b, x, false);
    const KSPRecycleInfo inf = info(ksp);
    if (probe) {
      EXPECT_STREQ(inf.source, "apply");
      EXPECT_FALSE(inf.restarted);
      EXPECT_NE(std::string(inf.message).find("failed its probe"), std::string::npos) << inf.message;
    } else {
      EXPECT_STREQ(inf.source, "carried");
      EXPECT_TRUE(inf.restarted);
      EXPECT_NE(std::string(inf.message).find("true-residual check"), std::string::npos) << inf.message;
    }
    EXPECT_GT(r.reason, 0);
    EXPECT_LT(relative_residual(a2, b, x), 2e-8);
  }
}

TEST(RecycleSpace, OperatorSplitRecomputesOnlyTheVaryingPart) {
  // H_t = F + R_t with F = L (fixed) and R_t = diagonal changing with t.
  MPI_Comm comm = PETSC_COMM_WORLD;
  const int n = 4;
  OwnedMat f = laplacian(comm, 24, 0.0, 0.0, 51);
  OwnedKSP split = make_ksp(comm, KSPRMINRES, "split_on_", 1e-9, {{"-ksp_recycle_k", "12"}});
  OwnedKSP full = make_ksp(comm, KSPRMINRES, "split_off_", 1e-9, {{"-ksp_recycle_k", "12"}});
  OwnedVec x1, x2;
  BILEARN_CHECK(MatCreateVecs(f, x1.out(), nullptr));
  BILEARN_CHECK(VecDuplicate(x1, x2.out()));
  BILEARN_CHECK(VecSet(x1, 0.0));
  BILEARN_CHECK(VecSet(x2, 0.0));
  for (int t = 0; t < n; ++t) {
    OwnedMat r = random_diagonal(f, 0.05 + 0.01 * t, 52);
    OwnedMat h;
    BILEARN_CHECK(MatDuplicate(f, MAT_COPY_VALUES, h.out()));
    BILEARN_CHECK(MatAXPY(h, 1.0, r, SUBSET_NONZERO_PATTERN));
    OwnedVec b = random_vec(f, 53 + t);
    BILEARN_CHECK(KSPRecycleSetOperatorSplit(split, f, r));
    const SolveResult rs = solve(split, h, b, x1, true);
    const SolveResult rf = solve(full, h, b, x2, true);
    const KSPRecycleInfo is = info(split), ifull = info(full);
    EXPECT_GT(rs.reason, 0);
    EXPECT_LE(std::abs(rs.its - rf.its), 1) << "t=" << t;
    EXPECT_LT(relative_residual(h, b, x1), 2e-9);
    EXPECT_FALSE(is.restarted);
    if (t > 0) {
      EXPECT_STREQ(is.source, "split");
      EXPECT_EQ(is.operator_applies, 1);      // the probe of the carried F·U
      EXPECT_EQ(is.varying_applies, 2 * 12);  // R_t·U now, R_t·Ũ_next after the solve
      EXPECT_STREQ(ifull.source, "apply");
      EXPECT_EQ(ifull.operator_applies, 12);
    }
    BILEARN_CHECK(KSPRecycleSetOperatorSplit(split, nullptr, nullptr));
    BILEARN_CHECK(KSPRecycleSetOperatorSplit(split, f, r));
  }
}

TEST(RecycleSpace, SameOperatorReusesTheCarriedProduct) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 20, 0.0, 0.05, 61);
  OwnedKSP ksp = make_ksp(comm, KSPRCG, "same_", 1e-9, {{"-ksp_recycle_k", "10"}});
  for (int t = 0; t < 4; ++t) {
    OwnedVec b = random_vec(a, 62 + t), x;
    BILEARN_CHECK(VecDuplicate(b, x.out()));
    solve(ksp, a, b, x, false);
    EXPECT_LT(relative_residual(a, b, x), 2e-9);
    const KSPRecycleInfo inf = info(ksp);
    if (t > 1) {  // t = 1 shows the operator repeats; from then on H·Ũ is carried
      EXPECT_STREQ(inf.source, "carried");
      EXPECT_EQ(inf.operator_applies, 1);  // the probe of the carried product
      EXPECT_FALSE(inf.restarted);
    }
  }
}

TEST(RecycleSpace, SpaceSurvivesKspResetAndIsCheckedAgainstTheNewSize) {
  // KSPReset (needed before operators of another size) keeps the space; the next solve finds
  // that it does not fit, says so, and solves without it.
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedKSP ksp = make_ksp(comm, KSPRMINRES, "reset_", 1e-9, {{"-ksp_recycle_k", "6"}});
  OwnedMat a1 = laplacian(comm, 14, 0.2, 1.0, 87), a2 = laplacian(comm, 11, 0.2, 1.0, 88);
  OwnedVec b1 = random_vec(a1, 89), b2 = random_vec(a2, 90), x1, x2;
  BILEARN_CHECK(VecDuplicate(b1, x1.out()));
  BILEARN_CHECK(VecDuplicate(b2, x2.out()));
  solve(ksp, a1, b1, x1, false);
  EXPECT_EQ(info(ksp).next_dim, 6);
  BILEARN_CHECK(KSPReset(ksp));
  const SolveResult r = solve(ksp, a2, b2, x2, false);
  const KSPRecycleInfo inf = info(ksp);
  EXPECT_GT(r.reason, 0);
  EXPECT_LT(relative_residual(a2, b2, x2), 2e-9);
  EXPECT_EQ(inf.resets, 1);
  EXPECT_NE(std::string(inf.message).find("196 rows"), std::string::npos) << inf.message;
  EXPECT_EQ(inf.next_dim, 6);
}
