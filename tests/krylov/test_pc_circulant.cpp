// PC circulant (docs/algorithms.md §4.5): symmetric positive definite, the same on any rank count, the
// exact inverse of operators that are themselves periodic convolutions, and a real gain on an
// X-ray Hessian.
#include <gtest/gtest.h>
#include <petscdmda.h>
#include <petscksp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/package.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/problem/forward_model.hpp"
#include "dmda_problems.hpp"
#include "problems.hpp"
#include "test_support.hpp"

using namespace bilearn;
using krylov_test::image_dm;
using krylov_test::natural_vector;
using krylov_test::stencil_operator;

namespace {

OwnedPC circulant_pc(DM dm, Mat h, const char* boundary, Mat fixed = nullptr, Mat varying = nullptr) {
  krylov::register_package();
  OwnedPC pc;
  BILEARN_CHECK(PCCreate(PetscObjectComm((PetscObject)dm), pc.out()));
  BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
  BILEARN_CHECK(PCSetOptionsPrefix(pc, "test_"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-test_pc_circulant_boundary", boundary));
  BILEARN_CHECK(PCSetFromOptions(pc));
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-test_pc_circulant_boundary"));
  BILEARN_CHECK(PCCirculantSetDM(pc, dm));
  if (fixed) BILEARN_CHECK(PCCirculantSetOperatorSplit(pc, fixed, varying));
  BILEARN_CHECK(PCSetOperators(pc, h, h));
  BILEARN_CHECK(PCSetUp(pc));
  return pc;
}

// ‖M⁻¹H v − v‖ / ‖v‖.
double inverse_error(PC pc, Mat h, Vec v) {
  OwnedVec hv, back;
  BILEARN_CHECK(VecDuplicate(v, hv.out()));
  BILEARN_CHECK(VecDuplicate(v, back.out()));
  BILEARN_CHECK(MatMult(h, v, hv));
  BILEARN_CHECK(PCApply(pc, hv, back));
  BILEARN_CHECK(VecAXPY(back, -1.0, v));
  PetscReal e, n;
  BILEARN_CHECK(VecNorm(back, NORM_2, &e));
  BILEARN_CHECK(VecNorm(v, NORM_2, &n));
  return e / n;
}

}  // namespace

TEST(PCCirculant, ExactInverseOfAPeriodicConvolution) {
  for (PetscInt n : {12, 13}) {  // even and odd grid sides
    OwnedDM dm = image_dm(PETSC_COMM_WORLD, n, DM_BOUNDARY_PERIODIC);
    OwnedMat h = stencil_operator(dm, 0.3, 1.0, 0.0);
    OwnedPC pc = circulant_pc(dm, h, "periodic");
    OwnedVec v = natural_vector(dm, 3);
    EXPECT_LT(inverse_error(pc, h, v), 1e-12) << "n = " << n;
  }
}

TEST(PCCirculant, ExactInverseOfAPeriodicSplitFromTheComb) {
  // H = F + R with F = 1.5 I (fixed) and R = 0.7 × periodic Laplacian (varying): Λ_R from one comb product.
  const PetscInt n = 15;  // 3 teeth of spacing 5 per axis
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, n, DM_BOUNDARY_PERIODIC);
  OwnedMat f = stencil_operator(dm, 1.5, 0.0, 0.0), r = stencil_operator(dm, 0.0, 0.7, 0.0);
  OwnedMat h = stencil_operator(dm, 1.5, 0.7, 0.0);
  OwnedPC pc = circulant_pc(dm, h, "periodic", f, r);
  OwnedVec v = natural_vector(dm, 4);
  EXPECT_LT(inverse_error(pc, h, v), 1e-12);
  PCCirculantInfo info;
  BILEARN_CHECK(PCCirculantGetInfo(pc, &info));
  EXPECT_EQ(info.varying_products, 1);
  EXPECT_EQ(info.fixed_products, 1);
}

namespace {

// Iterations of CG with the given PC type (circulant: from the full-range corner kernel) to 1e-10.
PetscInt cg_iterations(DM dm, Mat h, const char* pc_type, PetscReal* cond = nullptr) {
  krylov::register_package();
  OwnedKSP ksp;
  BILEARN_CHECK(KSPCreate(PetscObjectComm((PetscObject)dm), ksp.out()));
  BILEARN_CHECK(KSPSetType(ksp, KSPCG));
  BILEARN_CHECK(KSPSetOperators(ksp, h, h));
  BILEARN_CHECK(KSPSetTolerances(ksp, 1e-10, PETSC_DEFAULT, PETSC_DEFAULT, 2000));
  BILEARN_CHECK(KSPSetComputeSingularValues(ksp, PETSC_TRUE));
  BILEARN_CHECK(KSPSetNormType(ksp, KSP_NORM_UNPRECONDITIONED));
  PC pc;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, pc_type));
  BILEARN_CHECK(PCCirculantSetDM(pc, dm));
  BILEARN_CHECK(KSPSetFromOptions(ksp));
  OwnedVec b = natural_vector(dm, 5), x;
  BILEARN_CHECK(VecDuplicate(b, x.out()));
  BILEARN_CHECK(KSPSolve(ksp, b, x));
  PetscInt its;
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
  if (cond) {
    PetscReal emax, emin;
    BILEARN_CHECK(KSPComputeExtremeSingularValues(ksp, &emax, &emin));
    *cond = emax / emin;
  }
  return its;
}

}  // namespace

TEST(PCCirculant, ZeroPaddedCornerKernelPreconditionsAToeplitzOperator) {
  // Dirichlet 0.001·I + Laplacian: Toeplitz, a principal block of the circulant on the padded grid.
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, 32, DM_BOUNDARY_NONE);
  OwnedMat h = stencil_operator(dm, 0.001, 1.0, 0.0);
  PetscReal cond_none, cond_circ;
  const PetscInt plain = cg_iterations(dm, h, PCNONE, &cond_none);
  const PetscInt circ = cg_iterations(dm, h, PCCIRCULANT, &cond_circ);
  EXPECT_LT(circ, plain / 3);
}

namespace {

// H = F + R on an N×N tomography grid: F = AᵀA + 1e-3·I (parallel beam, 180 angles), R = w × the
// Dirichlet Laplacian (a stand-in for a regulariser Hessian), all assembled.
struct XraySplit {
  std::unique_ptr<ImageGrid> grid;
  ForwardModel model;
  OwnedMat f, r, h;
  XraySplit(MPI_Comm comm, PetscInt n, double w) {
    grid = std::make_unique<ImageGrid>(comm, n);
    ProblemOptions options;
    options.type = "tomo";
    options.n = n;
    {
      // AᵀA is formed explicitly here (MatTransposeMatMult): the assembled A, not the folded one.
      bilearn_test::ScopedOptions whole({{"-tomo_fold", "false"}});
      model = create_forward_model(*grid, options);
    }
    BILEARN_CHECK(MatTransposeMatMult(model.A, model.A, MAT_INITIAL_MATRIX, PETSC_DEFAULT, f.out()));
    BILEARN_CHECK(MatShift(f, 1e-3));
    BILEARN_CHECK(MatSetOption(f, MAT_SYMMETRIC, PETSC_TRUE));
    r = stencil_operator(grid->dm(), 0.0, w, 0.0);
    BILEARN_CHECK(MatDuplicate(f, MAT_COPY_VALUES, h.out()));
    BILEARN_CHECK(MatAXPY(h, 1.0, r, DIFFERENT_NONZERO_PATTERN));
    BILEARN_CHECK(MatSetOption(h, MAT_SYMMETRIC, PETSC_TRUE));
  }
};

}  // namespace

TEST(PCCirculant, CutsCgIterationsOnAnXrayHessian) {
  XraySplit x(PETSC_COMM_WORLD, 32, 0.05);
  const PetscInt plain = cg_iterations(x.grid->dm(), x.h, PCNONE);
  const PetscInt circ = cg_iterations(x.grid->dm(), x.h, PCCIRCULANT);
  EXPECT_LT(circ, 0.6 * plain) << "none " << plain << ", circulant " << circ;  // 0.50 measured
}

TEST(PCCirculant, SymmetricPositiveDefiniteWithTheSplit) {
  XraySplit x(PETSC_COMM_WORLD, 24, 0.05);
  OwnedPC pc = circulant_pc(x.grid->dm(), x.h, "zero", x.f, x.r);
  OwnedVec u = natural_vector(x.grid->dm(), 11), v = natural_vector(x.grid->dm(), 12), mu, mv;
  BILEARN_CHECK(VecDuplicate(u, mu.out()));
  BILEARN_CHECK(VecDuplicate(u, mv.out()));
  BILEARN_CHECK(PCApply(pc, u, mu));
  BILEARN_CHECK(PCApply(pc, v, mv));
  PetscScalar mu_v, u_mv, mu_u, mv_v;
  BILEARN_CHECK(VecDot(mu, v, &mu_v));
  BILEARN_CHECK(VecDot(u, mv, &u_mv));
  BILEARN_CHECK(VecDot(mu, u, &mu_u));
  BILEARN_CHECK(VecDot(mv, v, &mv_v));
  EXPECT_NEAR(mu_v, u_mv, 1e-12 * std::abs(mu_u));
  EXPECT_GT(mu_u, 0.0);
  EXPECT_GT(mv_v, 0.0);
  PCCirculantInfo info;
  BILEARN_CHECK(PCCirculantGetInfo(pc, &info));
  EXPECT_EQ(info.fixed_products, 4);    // the four corner impulses
  EXPECT_EQ(info.varying_products, 1);  // one comb
  EXPECT_EQ(info.clamped, 0);
  EXPECT_GT(info.symbol_min, 0.0);
}

TEST(PCCirculant, SameResultOnAnyRankCount) {
  // M⁻¹v on PETSC_COMM_WORLD against the same on one rank, in natural order.
  const PetscInt n = 20;
  XraySplit world(PETSC_COMM_WORLD, n, 0.05);
  OwnedPC pc = circulant_pc(world.grid->dm(), world.h, "zero", world.f, world.r);
  OwnedVec v = natural_vector(world.grid->dm(), 21), mv;
  BILEARN_CHECK(VecDuplicate(v, mv.out()));
  BILEARN_CHECK(PCApply(pc, v, mv));
  const std::vector<PetscScalar> here = world.grid->gather_natural(mv);
  if (bilearn_test::world_rank() == 0) {
    XraySplit self(PETSC_COMM_SELF, n, 0.05);
    OwnedPC pc1 = circulant_pc(self.grid->dm(), self.h, "zero", self.f, self.r);
    OwnedVec v1 = natural_vector(self.grid->dm(), 21), mv1;
    BILEARN_CHECK(VecDuplicate(v1, mv1.out()));
    BILEARN_CHECK(PCApply(pc1, v1, mv1));
    const std::vector<PetscScalar> one = self.grid->gather_natural(mv1);
    ASSERT_EQ(here.size(), one.size());
    double diff = 0, norm = 0;
    for (size_t i = 0; i < one.size(); ++i) {
      diff = std::max(diff, std::abs(here[i] - one[i]));
      norm = std::max(norm, std::abs(one[i]));
    }
    EXPECT_LT(diff, 1e-12 * norm);
  }
}

TEST(PCCirculant, KernelReachCutsTheLongRangeTail) {
  // -pc_circulant_kernel_reach p drops the offsets of F's kernel beyond p pixels: p ≥ N − 1 is the
  // full range (the same M⁻¹ bit for bit), a short reach another M⁻¹ that is still SPD.
  const PetscInt n = 24;
  XraySplit x(PETSC_COMM_WORLD, n, 0.05);
  OwnedVec u = natural_vector(x.grid->dm(), 41), v = natural_vector(x.grid->dm(), 42);
  auto apply = [&](const char* reach, Vec in) {
    bilearn_test::ScopedOptions o({{"-test_pc_circulant_kernel_reach", reach}});
    OwnedPC pc = circulant_pc(x.grid->dm(), x.h, "zero", x.f, x.r);
    OwnedVec out;
    BILEARN_CHECK(VecDuplicate(in, out.out()));
    BILEARN_CHECK(PCApply(pc, in, out));
    return x.grid->gather_natural(out);
  };
  const std::vector<PetscScalar> full = apply("0", u), covering = apply("23", u), short_u = apply("4", u),
                                 short_v = apply("4", v);
  EXPECT_EQ(full, covering);
  const std::vector<PetscScalar> un = x.grid->gather_natural(u), vn = x.grid->gather_natural(v);
  if (bilearn_test::world_rank() != 0) return;  // gathered on rank 0
  double diff = 0, norm = 0, mu_v = 0, u_mv = 0, mu_u = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    diff = std::max(diff, std::abs(full[i] - short_u[i]));
    norm = std::max(norm, std::abs(full[i]));
    mu_v += short_u[i] * vn[i];
    u_mv += un[i] * short_v[i];
    mu_u += short_u[i] * un[i];
  }
  EXPECT_GT(diff, 1e-3 * norm);  // the tail mattered
  EXPECT_NEAR(mu_v, u_mv, 1e-12 * std::abs(mu_u));
  EXPECT_GT(mu_u, 0.0);
}

TEST(PCCirculant, BadOptionsAndMissingGridAreOneLineErrors) {
  krylov::register_package();
  OwnedDM dm = image_dm(PETSC_COMM_WORLD, 8, DM_BOUNDARY_NONE);
  OwnedMat h = stencil_operator(dm, 1.0, 1.0, 0.0);
  for (const char* bad :
       {"-bad_pc_circulant_clip 2", "-bad_pc_circulant_radius -3", "-bad_pc_circulant_kernel edges",
        "-bad_pc_circulant_kernel_reach -2"}) {
    BILEARN_CHECK(PetscOptionsInsertString(nullptr, bad));
    OwnedPC pc;
    BILEARN_CHECK(PCCreate(PETSC_COMM_WORLD, pc.out()));
    BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
    BILEARN_CHECK(PCSetOptionsPrefix(pc, "bad_"));
    EXPECT_NE(PCSetFromOptions(pc), 0) << bad;
    PetscOptionsClear(nullptr);
  }
  OwnedPC pc;  // no DM anywhere
  BILEARN_CHECK(PCCreate(PETSC_COMM_WORLD, pc.out()));
  BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
  BILEARN_CHECK(PCSetOperators(pc, h, h));
  EXPECT_NE(PCSetUp(pc), 0);
}

namespace {

// A symbol store for the tests: this rank's symbols by key (every rank holds its own part).
std::map<std::string, std::vector<PetscReal>>& stored_symbols() {
  static std::map<std::string, std::vector<PetscReal>> symbols;
  return symbols;
}
int g_finds = 0, g_keeps = 0;

PetscErrorCode test_find(MPI_Comm comm, const char key[], PetscInt n, PetscReal values[], PetscBool* found) {
  ++g_finds;
  const auto it = stored_symbols().find(key);
  int here = it != stored_symbols().end() && static_cast<PetscInt>(it->second.size()) == n;
  MPI_Allreduce(MPI_IN_PLACE, &here, 1, MPI_INT, MPI_MIN, comm);
  if (here) std::copy(it->second.begin(), it->second.end(), values);
  *found = here ? PETSC_TRUE : PETSC_FALSE;
  return 0;
}

PetscErrorCode test_keep(MPI_Comm, const char key[], PetscInt n, const PetscReal values[]) {
  ++g_keeps;
  stored_symbols()[key] = std::vector<PetscReal>(values, values + n);
  return 0;
}

// M⁻¹v of a PC with the split of x, named key in the test store; its info in *info.
std::vector<PetscScalar> stored_pc_apply(const XraySplit& x, const char* key, const char* clip, PCCirculantInfo* info) {
  krylov::register_package();
  OwnedPC pc;
  BILEARN_CHECK(PCCreate(PETSC_COMM_WORLD, pc.out()));
  BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
  BILEARN_CHECK(PCSetOptionsPrefix(pc, "store_"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-store_pc_circulant_clip", clip));
  BILEARN_CHECK(PCSetFromOptions(pc));
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-store_pc_circulant_clip"));
  BILEARN_CHECK(PCCirculantSetDM(pc, x.grid->dm()));
  BILEARN_CHECK(PCCirculantSetOperatorSplit(pc, x.f, x.r));
  static const PCCirculantSymbolStore store{test_find, test_keep};
  BILEARN_CHECK(PCCirculantSetFixedSymbolStore(pc, key, &store));
  BILEARN_CHECK(PCSetOperators(pc, x.h, x.h));
  BILEARN_CHECK(PCSetUp(pc));
  OwnedVec v = natural_vector(x.grid->dm(), 31), mv;
  BILEARN_CHECK(VecDuplicate(v, mv.out()));
  BILEARN_CHECK(PCApply(pc, v, mv));
  BILEARN_CHECK(PCCirculantGetInfo(pc, info));
  return x.grid->gather_natural(mv);
}

}  // namespace

TEST(PCCirculant, FixedSymbolFromTheStoreActsAsTheEstimate) {
  // bilearn serve keeps Λ_F across jobs this way (lower/hessian_structure.cpp): a second PC of the
  // same F finds it instead of estimating it, and applies the very same M⁻¹.
  XraySplit x(PETSC_COMM_WORLD, 20, 0.05);
  stored_symbols().clear();
  g_finds = g_keeps = 0;
  PCCirculantInfo first{}, second{}, other_clip{}, unnamed{};
  const std::vector<PetscScalar> a = stored_pc_apply(x, "F", "1e-8", &first);
  EXPECT_EQ(first.fixed_products, 4);  // estimated
  EXPECT_EQ(first.fixed_stored, 0);
  EXPECT_EQ(g_keeps, 1);
  const std::vector<PetscScalar> b = stored_pc_apply(x, "F", "1e-8", &second);
  EXPECT_EQ(second.fixed_products, 0);  // found
  EXPECT_EQ(second.fixed_setups, 0);
  EXPECT_EQ(second.fixed_stored, 1);
  EXPECT_EQ(g_keeps, 1);
  EXPECT_EQ(a, b);  // bit for bit
  // Another clip is another symbol (the PC adds its options to the key): estimated and kept anew.
  stored_pc_apply(x, "F", "1e-6", &other_clip);
  EXPECT_EQ(other_clip.fixed_products, 4);
  EXPECT_EQ(g_keeps, 2);
  // Another reach is another symbol too.
  {
    PCCirculantInfo other_reach{};
    bilearn_test::ScopedOptions reach({{"-store_pc_circulant_kernel_reach", "4"}});
    stored_pc_apply(x, "F", "1e-8", &other_reach);
    EXPECT_EQ(other_reach.fixed_products, 4);
    EXPECT_EQ(g_keeps, 3);
  }
  // No key: nothing asked, nothing kept.
  const int finds = g_finds;
  stored_pc_apply(x, "", "1e-8", &unnamed);
  EXPECT_EQ(unnamed.fixed_products, 4);
  EXPECT_EQ(g_finds, finds);
  EXPECT_EQ(g_keeps, 3);
}
