// Preconditioned rcg and rminres (docs/algorithms.md §4.5): with k = 0 they are PETSc's KSPCG and
// KSPMINRES with the same PC (iteration for iteration), with a recycle space they stop at the true
// residual and take fewer iterations than the preconditioner alone on a slowly changing sequence,
// a PC that is not SPD is one clear error, and the results do not depend on the rank count.
#include <gtest/gtest.h>
#include <petscdmda.h>
#include <petscksp.h>

#include <cmath>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/package.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "dmda_problems.hpp"
#include "problems.hpp"

using namespace bilearn;
using namespace krylov_test;

namespace {

constexpr PetscInt kSide = 24;

// The system t of a slowly changing SPD sequence: 0.001·I + Laplacian + (4 + 0.2 t)·diag(hash).
OwnedMat system_matrix(DM dm, int t) {
  return stencil_operator(dm, 0.001, 1.0, 4.0 + 0.2 * t);
}

OwnedKSP pc_ksp(DM dm, const char* type, const char* pc_type, PetscInt k, const std::string& prefix,
                double rtol = 1e-8) {
  krylov::register_package();
  OwnedKSP ksp = krylov::create_ksp(PetscObjectComm((PetscObject)dm), type, prefix, rtol, 10000);
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, pc_type));
  if (std::string(pc_type) == PCCIRCULANT) BILEARN_CHECK(PCCirculantSetDM(pc, dm));
  BILEARN_CHECK(KSPRecycleSetK(ksp, k));
  return ksp;
}

struct Outcome {
  PetscInt its = 0;
  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  PetscReal rnorm = 0;
};

Outcome run(KSP ksp, Mat a, Vec b, Vec x, bool nonzero) {
  Outcome r;
  BILEARN_CHECK(KSPSetOperators(ksp, a, a));
  BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp, nonzero ? PETSC_TRUE : PETSC_FALSE));
  BILEARN_CHECK(KSPSolve(ksp, b, x));
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &r.its));
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &r.reason));
  BILEARN_CHECK(KSPGetResidualNorm(ksp, &r.rnorm));
  return r;
}

PetscReal norm(Vec v) {
  PetscReal n = 0;
  BILEARN_CHECK(VecNorm(v, NORM_2, &n));
  return n;
}

}  // namespace

// k = 0: KSPCG with the same PC and the unpreconditioned norm, iteration for iteration.
TEST(RecyclePrecond, RcgWithEmptySpaceIsKspCg) {
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, kSide, DM_BOUNDARY_NONE);
  OwnedMat a = system_matrix(dm, 0);
  OwnedVec b = natural_vector(dm, 11), x0 = natural_vector(dm, 12);
  for (const char* pc : {PCCIRCULANT, PCJACOBI}) {
    OwnedKSP ref = pc_ksp(dm, KSPCG, pc, 0, "ref_");
    OwnedKSP rec = pc_ksp(dm, KSPRCG, pc, 0, "rec_");
    BILEARN_CHECK(KSPSetNormType(ref, KSP_NORM_UNPRECONDITIONED));
    OwnedVec xr, xc;
    BILEARN_CHECK(VecDuplicate(x0, xr.out()));
    BILEARN_CHECK(VecDuplicate(x0, xc.out()));
    BILEARN_CHECK(VecCopy(x0, xr));
    BILEARN_CHECK(VecCopy(x0, xc));
    const Outcome r1 = run(ref, a, b, xr, true);
    const Outcome r2 = run(rec, a, b, xc, true);
    EXPECT_GT(r1.reason, 0) << pc;
    EXPECT_EQ(r1.its, r2.its) << pc;
    EXPECT_EQ(r1.reason, r2.reason) << pc;
    EXPECT_LT(relative_difference(xc, xr), 1e-10) << pc;
    EXPECT_NEAR(r1.rnorm, r2.rnorm, 1e-10 * norm(b)) << pc;
    const KSPRecycleInfo inf = info(rec);
    EXPECT_EQ(inf.pc_applies, r2.its) << pc;  // one per iteration (the first before it, none after the last)
    // the default norm is the unpreconditioned one: the true residual meets the tolerance
    EXPECT_LE(relative_residual(a, b, xc), 1e-8 * 1.0001) << pc;
  }
}

// k = 0: KSPMINRES with the same PC (its preconditioned norm), iteration for iteration; with the
// default unpreconditioned norm rminres stops at the true residual.
TEST(RecyclePrecond, RminresWithEmptySpaceIsKspMinres) {
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, kSide, DM_BOUNDARY_NONE);
  OwnedMat a = system_matrix(dm, 0);
  OwnedVec b = natural_vector(dm, 13), x0 = natural_vector(dm, 14);
  for (const char* pc : {PCCIRCULANT, PCJACOBI}) {
    OwnedKSP ref = pc_ksp(dm, KSPMINRES, pc, 0, "ref_");
    OwnedKSP rec = pc_ksp(dm, KSPRMINRES, pc, 0, "rec_");
    BILEARN_CHECK(KSPSetNormType(rec, KSP_NORM_PRECONDITIONED));
    OwnedVec xr, xc;
    BILEARN_CHECK(VecDuplicate(x0, xr.out()));
    BILEARN_CHECK(VecDuplicate(x0, xc.out()));
    BILEARN_CHECK(VecCopy(x0, xr));
    BILEARN_CHECK(VecCopy(x0, xc));
    const Outcome r1 = run(ref, a, b, xr, true);
    const Outcome r2 = run(rec, a, b, xc, true);
    EXPECT_GT(r1.reason, 0) << pc;
    EXPECT_EQ(r1.its, r2.its) << pc;
    EXPECT_LT(relative_difference(xc, xr), 1e-10) << pc;
    EXPECT_NEAR(r1.rnorm, r2.rnorm, 1e-10 * r1.rnorm + 1e-14) << pc;
    EXPECT_EQ(info(rec).pc_applies, r2.its + 1) << pc;

    OwnedKSP unp = pc_ksp(dm, KSPRMINRES, pc, 0, "unp_");
    BILEARN_CHECK(VecCopy(x0, xc));
    const Outcome r3 = run(unp, a, b, xc, true);
    EXPECT_GT(r3.reason, 0) << pc;
    const PetscReal truth = relative_residual(a, b, xc);
    EXPECT_LE(truth, 1e-8 * 1.0001) << pc;
    EXPECT_NEAR(r3.rnorm / norm(b), truth, 1e-3 * truth) << pc;  // the recurrence is the true residual
  }
}

// A slowly changing SPD sequence: with a space both types stop at the true-residual tolerance,
// take fewer iterations than the preconditioner alone, and count their PC applies.
TEST(RecyclePrecond, SpaceBeatsThePreconditionerAloneOnASequence) {
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, kSide, DM_BOUNDARY_NONE);
  for (const char* type : {KSPRCG, KSPRMINRES}) {
    for (const char* pc : {PCCIRCULANT, PCJACOBI}) {
      OwnedKSP plain = pc_ksp(dm, type, pc, 0, "plain_");
      OwnedKSP rec = pc_ksp(dm, type, pc, 10, "rec_");
      OwnedVec xp = natural_vector(dm, 1), xr = natural_vector(dm, 1);
      BILEARN_CHECK(VecSet(xp, 0.0));
      BILEARN_CHECK(VecSet(xr, 0.0));
      PetscInt its_plain = 0, its_rec = 0, its_rec_later = 0, its_plain_later = 0;
      for (int t = 0; t < 8; ++t) {
        OwnedMat a = system_matrix(dm, t);
        OwnedVec b = natural_vector(dm, 100 + static_cast<std::uint64_t>(t % 2));
        const Outcome rp = run(plain, a, b, xp, true);
        const Outcome rr = run(rec, a, b, xr, true);
        ASSERT_GT(rp.reason, 0) << type << " " << pc << " t " << t;
        ASSERT_GT(rr.reason, 0) << type << " " << pc << " t " << t;
        EXPECT_LE(relative_residual(a, b, xr), 1e-8 * 1.0001) << type << " " << pc << " t " << t;
        EXPECT_LE(relative_residual(a, b, xp), 1e-8 * 1.0001) << type << " " << pc << " t " << t;
        const KSPRecycleInfo inf = info(rec);
        EXPECT_EQ(inf.restarted, PETSC_FALSE) << type << " " << pc << " t " << t;
        EXPECT_EQ(inf.pc_applies, rr.its + (std::string(type) == KSPRMINRES ? 1 : 0));
        if (t > 0) {
          EXPECT_GT(inf.dim, 0) << type << " " << pc << " t " << t;
          its_rec_later += rr.its;
          its_plain_later += rp.its;
        }
        its_plain += rp.its;
        its_rec += rr.its;
      }
      EXPECT_LT(its_rec, its_plain) << type << " " << pc;
      EXPECT_LT(its_rec_later, 0.9 * its_plain_later) << type << " " << pc;
      if (root())
        std::printf("%s + %s: %d iterations with k = 10 against %d with the PC alone\n", type, pc, (int)its_rec,
                    (int)its_plain);
    }
  }
}

namespace {
// M⁻¹ = −I: negative definite.
PetscErrorCode negative_apply(PC, Vec x, Vec y) {
  PetscFunctionBeginUser;
  PetscCall(VecCopy(x, y));
  PetscCall(VecScale(y, -1.0));
  PetscFunctionReturn(0);
}
}  // namespace

TEST(RecyclePrecond, IndefinitePreconditionerIsOneClearError) {
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, kSide, DM_BOUNDARY_NONE);
  OwnedMat a = system_matrix(dm, 0);
  OwnedVec b = natural_vector(dm, 3), x = natural_vector(dm, 4);
  for (const char* type : {KSPRCG, KSPRMINRES}) {
    OwnedKSP ksp = pc_ksp(dm, type, PCSHELL, 5, "neg_");
    PC pc = nullptr;
    BILEARN_CHECK(KSPGetPC(ksp, &pc));
    BILEARN_CHECK(PCShellSetApply(pc, negative_apply));
    bool threw = false;
    try {
      run(ksp, a, b, x, false);
    } catch (const PetscFailure& e) {
      threw = true;
      const std::string what = e.what();
      EXPECT_NE(what.find("symmetric positive definite preconditioner"), std::string::npos) << what;
      EXPECT_NE(what.find(type), std::string::npos) << what;
    }
    EXPECT_TRUE(threw) << type;
  }
}

// Iteration counts and solution norms of the sequence on the world communicator equal those of
// the same sequence solved on one rank.
TEST(RecyclePrecond, SameResultOnAnyRankCount) {
  for (const char* type : {KSPRCG, KSPRMINRES}) {
    std::vector<std::vector<PetscReal>> results;
    for (MPI_Comm comm : {PETSC_COMM_SELF, PETSC_COMM_WORLD}) {
      OwnedDM dm = image_dm(comm, kSide, DM_BOUNDARY_NONE);
      OwnedKSP ksp = pc_ksp(dm, type, PCCIRCULANT, 8, "inv_");
      OwnedVec x = natural_vector(dm, 1);
      BILEARN_CHECK(VecSet(x, 0.0));
      std::vector<PetscReal> out;
      for (int t = 0; t < 5; ++t) {
        OwnedMat a = system_matrix(dm, t);
        OwnedVec b = natural_vector(dm, 200 + static_cast<std::uint64_t>(t));
        const Outcome r = run(ksp, a, b, x, true);
        out.push_back(static_cast<PetscReal>(r.its));
        out.push_back(norm(x));
      }
      results.push_back(out);
    }
    ASSERT_EQ(results[0].size(), results[1].size());
    for (size_t i = 0; i < results[0].size(); i += 2) {
      EXPECT_EQ(results[0][i], results[1][i]) << type << " system " << i / 2;
      EXPECT_NEAR(results[0][i + 1], results[1][i + 1], 1e-9 * results[0][i + 1]) << type << " system " << i / 2;
    }
  }
}
