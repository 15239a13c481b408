// Test problems on a 2-D DMDA image grid (shared by the PC circulant and preconditioned
// recycling tests): operators a·I + w·Laplacian + diag(d) and vectors that depend on the
// natural pixel index only (the same on any rank count).
#pragma once
#include <petscdmda.h>

#include <cstdint>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "problems.hpp"

namespace krylov_test {

using bilearn::OwnedDM;
using bilearn::OwnedMat;
using bilearn::OwnedVec;
using bilearn::VecArray;

inline OwnedDM image_dm(MPI_Comm comm, PetscInt n, DMBoundaryType boundary) {
  OwnedDM dm;
  BILEARN_CHECK(DMDACreate2d(comm, boundary, boundary, DMDA_STENCIL_BOX, n, n, PETSC_DECIDE, PETSC_DECIDE, 1, 2,
                             nullptr, nullptr, dm.out()));
  BILEARN_CHECK(DMSetUp(dm));
  return dm;
}

// a·I + w·(5-point Laplacian) + diag(d_i) with d_i = diag_scale·hash(natural index): periodic
// boundaries make it a convolution (when diag_scale = 0), Dirichlet ones do not.
inline OwnedMat stencil_operator(DM dm, double a, double w, double diag_scale) {
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
      vals[0] = a + 4 * w + diag_scale * hash01(y * n + x, 7);
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
inline OwnedVec natural_vector(DM dm, std::uint64_t seed) {
  OwnedVec v;
  BILEARN_CHECK(DMCreateGlobalVector(dm, v.out()));
  PetscInt xs, ys, xm, ym, n;
  BILEARN_CHECK(DMDAGetCorners(dm, &xs, &ys, nullptr, &xm, &ym, nullptr));
  BILEARN_CHECK(DMDAGetInfo(dm, nullptr, &n, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr));
  VecArray a(v);
  for (PetscInt y = 0; y < ym; ++y)
    for (PetscInt x = 0; x < xm; ++x) a[y * xm + x] = hash01((ys + y) * n + xs + x, seed) - 0.5;
  return v;
}

}  // namespace krylov_test
