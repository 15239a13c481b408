// PC circulant (ALGORITHMS.md §4.5): symmetric positive definite, the same on any rank count, the
// exact inverse of operators that are themselves periodic convolutions, and a real gain on an
// X-ray Hessian.
#include <gtest/gtest.h>
#include <petscdmda.h>
#include <petscksp.h>

#include <cmath>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/package.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "problems.hpp"
#include "test_support.hpp"

using namespace bilearn;

namespace {

OwnedDM image_dm(MPI_Comm comm, PetscInt n, DMBoundaryType boundary) {
  OwnedDM dm;
  BILEARN_CHECK(DMDACreate2d(comm, boundary, boundary, DMDA_STENCIL_BOX, n, n, PETSC_DECIDE, PETSC_DECIDE, 1, 2,
                             nullptr, nullptr, dm.out()));
  BILEARN_CHECK(DMSetUp(dm));
  return dm;
}

// a·I + w·(5-point Laplacian) + diag(d_i) with d_i = diag_scale·hash(natural index): periodic
// boundaries make it a convolution (when diag_scale = 0), Dirichlet ones do not.
OwnedMat stencil_operator(DM dm, double a, double w, double diag_scale) {
  OwnedMat m;
  BILEARN_CHECK(DMCreateMatrix(dm, m.out()));
  PetscInt xs, ys, xm, ym, n;
  BILEARN_CHECK(DMDAGetCorners(dm, &xs, &ys, nullptr, &xm, &ym, nullptr));
  DMBoundaryType bx;
  BILEARN_CHECK(DMDAGetInfo(dm, nullptr, &n, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &bx,
                            nullptr, nullptr, nullptr));
  const bool periodic = bx == DM_BOUNDARY_PERIODIC;
  for (PetscInt y = ys; y < ys + ym; ++y)
    for (PetscInt x = xs; x < xs + xm; ++x) {
      MatStencil row{0, y, x, 0}, cols[5];
      PetscScalar vals[5];
      cols[0] = {0, y, x, 0};
      vals[0] = a + 4 * w + diag_scale * krylov_test::hash01(y * n + x, 7);
      cols[1] = {0, y, x - 1, 0};
      cols[2] = {0, y, x + 1, 0};
      cols[3] = {0, y - 1, x, 0};
      cols[4] = {0, y + 1, x, 0};
      for (int k = 1; k < 5; ++k) vals[k] = -w;
      // Outside a non-periodic grid: a negative index is skipped by PETSc; n is made negative too.
      for (int k = 1; k < 5; ++k)
        if (!periodic && (cols[k].i >= n || cols[k].j >= n)) cols[k].i = -1;
      BILEARN_CHECK(MatSetValuesStencil(m, 1, &row, 5, cols, vals, INSERT_VALUES));
    }
  BILEARN_CHECK(MatAssemblyBegin(m, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(m, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatSetOption(m, MAT_SYMMETRIC, PETSC_TRUE));
  return m;
}

// A vector whose entries depend on the natural index only.
OwnedVec natural_vector(DM dm, std::uint64_t seed) {
  OwnedVec v;
  BILEARN_CHECK(DMCreateGlobalVector(dm, v.out()));
  PetscInt xs, ys, xm, ym, n;
  BILEARN_CHECK(DMDAGetCorners(dm, &xs, &ys, nullptr, &xm, &ym, nullptr));
  BILEARN_CHECK(DMDAGetInfo(dm, nullptr, &n, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr));
  VecArray a(v);
  for (PetscInt y = 0; y < ym; ++y)
    for (PetscInt x = 0; x < xm; ++x)
      a[y * xm + x] = krylov_test::hash01((ys + y) * n + xs + x, seed) - 0.5;
  return v;
}

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
  if (bilearn_test::world_rank() == 0) printf("none %d its cond %g; circulant %d its cond %g\n", (int)plain, cond_none, (int)circ, cond_circ);
  EXPECT_LT(circ, plain / 3);
}

#include "bilearn/problem/forward_model.hpp"

TEST(PCCirculant, XrayNormalOperator) {
  const PetscInt n = 32;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  ProblemOptions options;
  options.type = "tomo";
  options.n = n;
  ForwardModel model = create_forward_model(grid, options);
  OwnedMat ata;
  BILEARN_CHECK(MatTransposeMatMult(model.A, model.A, MAT_INITIAL_MATRIX, PETSC_DEFAULT, ata.out()));
  BILEARN_CHECK(MatShift(ata, 1e-3));
  BILEARN_CHECK(MatSetOption(ata, MAT_SYMMETRIC, PETSC_TRUE));
  PetscReal cond_none, cond_circ;
  const PetscInt plain = cg_iterations(grid.dm(), ata, PCNONE, &cond_none);
  const PetscInt circ = cg_iterations(grid.dm(), ata, PCCIRCULANT, &cond_circ);
  if (bilearn_test::world_rank() == 0) printf("xray none %d its cond %g; circulant %d its cond %g\n", (int)plain, cond_none, (int)circ, cond_circ);
  EXPECT_LT(circ, plain / 2);
}
