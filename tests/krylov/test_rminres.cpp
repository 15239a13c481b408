// rminres against KSPMINRES: with an empty space (k = 0, or the first solve of a sequence) the
// iterations are those of KSPMINRES (same counts, same residual history); with a recycle space
// the solutions agree to the tolerance; -ksp_view, options and errors behave.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "bilearn/core/reduce.hpp"
#include "problems.hpp"

using namespace krylov_test;
using bilearn::all_ranks;

namespace {

// Solves with KSPMINRES and with rminres (options opts) from the same initial guess and compares.
void expect_same_as_minres(Mat a, Vec b, bool nonzero_guess, const std::string& prefix,
                           const std::vector<std::pair<std::string, std::string>>& opts) {
  MPI_Comm comm = PetscObjectComm((PetscObject)a);
  OwnedKSP ref = make_ksp(comm, KSPMINRES, prefix + "ref_", 1e-8);
  OwnedKSP rec = make_ksp(comm, KSPRMINRES, prefix + "rec_", 1e-8, opts);
  OwnedVec x1 = random_vec(a, 77), x2 = random_vec(a, 77);
  const SolveResult r1 = solve(ref, a, b, x1, nonzero_guess);
  const SolveResult r2 = solve(rec, a, b, x2, nonzero_guess);
  EXPECT_EQ(r1.its, r2.its) << prefix;
  EXPECT_EQ(r1.reason, r2.reason) << prefix;
  EXPECT_GT(r1.reason, 0) << prefix;
  ASSERT_EQ(r1.history.size(), r2.history.size());
  double worst = 0;
  for (size_t i = 0; i < r1.history.size(); ++i)
    worst = std::max(worst, std::abs(r1.history[i] - r2.history[i]) / r1.history[0]);
  EXPECT_LT(worst, 1e-13) << prefix << ": residual histories differ";
  EXPECT_LT(relative_difference(x2, x1), 1e-12) << prefix;
}

}  // namespace

TEST(RMinres, EmptySpaceReproducesMinresOnSpdSystem) {
  OwnedMat a = laplacian(PETSC_COMM_WORLD, 24, 0.0, 1.0, 1);
  OwnedVec b = random_vec(a, 2);
  expect_same_as_minres(a, b, false, "spd0_", {{"-ksp_recycle_k", "0"}});
  expect_same_as_minres(a, b, true, "spd1_", {{"-ksp_recycle_k", "0"}});
  // k > 0 but nothing to recycle yet: the first solve is plain MINRES as well
  expect_same_as_minres(a, b, true, "spd2_", {{"-ksp_recycle_k", "10"}});
}

TEST(RMinres, EmptySpaceReproducesMinresOnIndefiniteSystem) {
  // shift 0.6 puts a few eigenvalues of L + D (spectrum ≈ (0.03, 8.5)) below zero
  OwnedMat a = laplacian(PETSC_COMM_WORLD, 24, 0.6, 0.5, 3);
  OwnedVec b = random_vec(a, 4);
  expect_same_as_minres(a, b, false, "ind0_", {{"-ksp_recycle_k", "0"}});
  expect_same_as_minres(a, b, true, "ind1_", {{"-ksp_recycle_k", "12"}, {"-ksp_recycle_select", "hritz_s"}});
}

TEST(RMinres, RecycledSolutionsMatchMinres) {
  // A sequence of indefinite systems solved with recycling; each answer is compared with a tight
  // KSPMINRES solve.
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedKSP rec = make_ksp(comm, KSPRMINRES, "seq_", 1e-9, {{"-ksp_recycle_k", "12"}});
  OwnedKSP ref = make_ksp(comm, KSPMINRES, "seqref_", 1e-12);
  OwnedMat a0 = laplacian(comm, 24, 0.6, 0.5, 3);
  OwnedVec x = random_vec(a0, 9);
  BILEARN_CHECK(VecSet(x, 0.0));
  for (int t = 0; t < 4; ++t) {
    OwnedMat a = laplacian(comm, 24, 0.6 + 0.01 * t, 0.5, 3);
    OwnedVec b = random_vec(a, 10 + t);
    const SolveResult r = solve(rec, a, b, x, true);
    OwnedVec xr;
    BILEARN_CHECK(VecDuplicate(b, xr.out()));
    solve(ref, a, b, xr, false);
    EXPECT_GT(r.reason, 0) << "system " << t;
    EXPECT_LT(relative_residual(a, b, x), 2e-9) << "system " << t;
    EXPECT_LT(relative_difference(x, xr), 1e-6) << "system " << t;
    const KSPRecycleInfo inf = info(rec);
    if (t > 0) {
      EXPECT_EQ(inf.dim, 12) << "system " << t;
    }
    EXPECT_FALSE(inf.restarted) << "system " << t;
  }
}

TEST(RMinres, ViewShowsRecycleSpace) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedKSP rec =
      make_ksp(comm, KSPRMINRES, "view_", 1e-8, {{"-ksp_recycle_k", "6"}, {"-ksp_recycle_select", "ritz_s"}});
  OwnedMat a = laplacian(comm, 16, 0.0, 1.0, 5);
  OwnedVec b = random_vec(a, 6), x = random_vec(a, 7);
  solve(rec, a, b, x, false);
  solve(rec, a, b, x, false);
  int size = 1;
  MPI_Comm_size(comm, &size);
  const std::string file = "rminres_view_np" + std::to_string(size) + ".txt";
  {
    bilearn::OwnedViewer viewer;
    BILEARN_CHECK(PetscViewerASCIIOpen(comm, file.c_str(), viewer.out()));
    BILEARN_CHECK(KSPView(rec, viewer));
  }
  std::string s;
  if (root()) {
    std::ifstream in(file);
    s.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::remove(file.c_str());
  } else {
    s = "recycle space: k=6 selector ritz_s dimension used 6 orthogonality loss";  // checked on rank 0
  }
  EXPECT_NE(s.find("recycle space: k=6"), std::string::npos) << s;
  EXPECT_NE(s.find("selector ritz_s"), std::string::npos) << s;
  EXPECT_NE(s.find("dimension used 6"), std::string::npos) << s;
  EXPECT_NE(s.find("orthogonality loss"), std::string::npos) << s;
}

TEST(RMinres, OrthogonalityLossIsSmall) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  // verbose (like -ksp_view) measures ‖CᵀC − I‖ at each preparation
  OwnedKSP rec = make_ksp(comm, KSPRMINRES, "orth_", 1e-8, {{"-ksp_recycle_k", "8"}, {"-ksp_recycle_verbose", "1"}});
  OwnedMat a = laplacian(comm, 16, 0.3, 1.0, 5);
  OwnedVec b = random_vec(a, 6), x = random_vec(a, 7);
  solve(rec, a, b, x, false);
  solve(rec, a, b, x, false);
  const KSPRecycleInfo inf = info(rec);
  EXPECT_EQ(inf.dim, 8);
  EXPECT_GE(inf.orthogonality, 0.0);
  EXPECT_LT(inf.orthogonality, 1e-12);
}

TEST(RMinres, RgenWithoutJIsAClearError) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedKSP rec = make_ksp(comm, KSPRMINRES, "noj_", 1e-8, {{"-ksp_recycle_select", "rgen_l"}});
  OwnedMat a = laplacian(comm, 8, 0.0, 1.0, 5);
  OwnedVec b = random_vec(a, 6), x = random_vec(a, 7);
  bool threw = false;
  try {
    solve(rec, a, b, x, false);
  } catch (const bilearn::PetscFailure& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("-noj_ksp_recycle_select rgen_l needs J"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(threw);
}

TEST(RMinres, UnknownSelectorNamesTheOption) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  bool threw = false;
  try {
    make_ksp(comm, KSPRMINRES, "badsel_", 1e-8, {{"-ksp_recycle_select", "ritz_middle"}});
  } catch (const bilearn::PetscFailure& e) {
    threw = true;
    EXPECT_NE(std::string(e.what()).find("-badsel_ksp_recycle_select"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(threw);
}

namespace {
// Monitor: compares the reported residual norm with the true residual of KSPBuildSolution (which
// must include the U-correction that rminres applies only at the end).
struct MonitorCheck {
  Mat a = nullptr;
  Vec b = nullptr, x = nullptr, r = nullptr;
  double worst = 0;
  int calls = 0;
  static PetscErrorCode call(KSP ksp, PetscInt, PetscReal rnorm, void* ctx) {
    auto* m = static_cast<MonitorCheck*>(ctx);
    Vec sol = nullptr;
    PetscCall(KSPBuildSolution(ksp, m->x, &sol));
    PetscCall(MatMult(m->a, sol, m->r));
    PetscCall(VecAYPX(m->r, -1.0, m->b));
    PetscReal tn = 0, bn = 0;
    PetscCall(VecNorm(m->r, NORM_2, &tn));
    PetscCall(VecNorm(m->b, NORM_2, &bn));
    m->worst = std::max(m->worst, std::abs(tn - rnorm) / bn);
    ++m->calls;
    return 0;
  }
};
}  // namespace

TEST(RMinres, MonitorSeesTheCorrectedIterate) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  for (const char* type : {KSPRMINRES, KSPRCG}) {
    const bool cg = std::string(type) == KSPRCG;
    OwnedKSP ksp = make_ksp(comm, type, std::string("mon_") + type + "_", 1e-9, {{"-ksp_recycle_k", "8"}});
    OwnedMat a0 = laplacian(comm, 16, cg ? 0.0 : 0.4, 0.5, 81), a1 = laplacian(comm, 16, cg ? -0.01 : 0.41, 0.5, 81);
    OwnedVec b = random_vec(a0, 82), x, xs, r;
    BILEARN_CHECK(VecDuplicate(b, x.out()));
    BILEARN_CHECK(VecDuplicate(b, xs.out()));
    BILEARN_CHECK(VecDuplicate(b, r.out()));
    solve(ksp, a0, b, x, false);
    MonitorCheck m{a1, b, xs, r};
    BILEARN_CHECK(KSPMonitorSet(ksp, MonitorCheck::call, &m, nullptr));
    const SolveResult res = solve(ksp, a1, b, x, false);
    EXPECT_GT(res.reason, 0) << type;
    EXPECT_EQ(info(ksp).dim, 8) << type;
    EXPECT_EQ(m.calls, res.its + 1) << type;
    EXPECT_LT(m.worst, 1e-10) << type << ": reported residual differs from the true one";
  }
}

TEST(RMinres, EpsInitialSpace) {
  // -ksp_recycle_init eps: the first solve already deflates the smallest eigenvalues.
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 20, 0.0, 0.02, 83);
  OwnedVec b = random_vec(a, 84), x1, x2;
  BILEARN_CHECK(VecDuplicate(b, x1.out()));
  BILEARN_CHECK(VecDuplicate(b, x2.out()));
  OwnedKSP plain = make_ksp(comm, KSPRMINRES, "epsoff_", 1e-8, {{"-ksp_recycle_k", "8"}});
  OwnedKSP eps =
      make_ksp(comm, KSPRMINRES, "epson_", 1e-8,
               {{"-ksp_recycle_k", "8"}, {"-ksp_recycle_init", "eps"}, {"-ksp_recycle_init_eps_eps_tol", "1e-6"}});
  const SolveResult r1 = solve(plain, a, b, x1, false);
  const SolveResult r2 = solve(eps, a, b, x2, false);
  if (root()) std::printf("  first solve: plain %d, with EPS space %d iterations\n", (int)r1.its, (int)r2.its);
  EXPECT_EQ(info(eps).dim, 8);
  EXPECT_STREQ(info(eps).source, "apply");
  EXPECT_LT(r2.its, 0.85 * r1.its);
  EXPECT_LT(relative_residual(a, b, x2), 2e-8);
}

TEST(RMinres, TypeFromOptionsAloneNeedsNoPcOption) {
  // As in a foreign program: only -ksp_type rminres on the command line, PC untouched.
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 12, 0.3, 1.0, 85);
  OwnedVec b = random_vec(a, 86), x;
  BILEARN_CHECK(VecDuplicate(b, x.out()));
  for (const char* type : {KSPRMINRES, KSPRCG}) {
    const std::string prefix = std::string("opt_") + type + "_";
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + "ksp_type").c_str(), type));
    OwnedKSP ksp;
    BILEARN_CHECK(KSPCreate(comm, ksp.out()));
    BILEARN_CHECK(KSPSetOptionsPrefix(ksp, prefix.c_str()));
    BILEARN_CHECK(KSPSetFromOptions(ksp));
    BILEARN_CHECK(KSPSetOperators(ksp, a, a));
    if (std::string(type) == KSPRCG) {
      OwnedMat spd = laplacian(comm, 12, 0.0, 1.0, 85);
      BILEARN_CHECK(KSPSetOperators(ksp, spd, spd));
      BILEARN_CHECK(KSPSolve(ksp, b, x));
      EXPECT_LT(relative_residual(spd, b, x), 1e-4) << type;
    } else {
      BILEARN_CHECK(KSPSolve(ksp, b, x));
      EXPECT_LT(relative_residual(a, b, x), 1e-4) << type;
    }
    KSPConvergedReason reason;
    BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
    EXPECT_GT(reason, 0) << type;
  }
}

TEST(RMinres, IsRecyclingTellsTheRecyclingTypesApart) {
  // KSPRecycleIsRecycling: true for rminres and rcg, false for PETSc's own types (whose
  // KSPRecycle calls are no-ops), so callers can decide without comparing type names.
  MPI_Comm comm = PETSC_COMM_WORLD;
  for (const char* type : {KSPRMINRES, KSPRCG, KSPMINRES, KSPCG, KSPGMRES}) {
    OwnedKSP ksp;
    BILEARN_CHECK(KSPCreate(comm, ksp.out()));
    BILEARN_CHECK(KSPSetType(ksp, type));
    PetscBool recycling = PETSC_TRUE;
    BILEARN_CHECK(KSPRecycleIsRecycling(ksp, &recycling));
    const bool expected = std::string(type) == KSPRMINRES || std::string(type) == KSPRCG;
    EXPECT_EQ(recycling == PETSC_TRUE, expected) << type;
  }
}
