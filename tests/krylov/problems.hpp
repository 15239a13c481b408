// Deterministic test systems for the recycling Krylov tests: a 2-D 5-point Laplacian (N×N,
// natural ordering) plus a pseudo-random diagonal, optionally shifted to be indefinite, with
// entries that depend on the global index only (the same problem on any number of ranks).
#pragma once
#include <gtest/gtest.h>
#include <petscksp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/create_ksp.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"

namespace krylov_test {

using bilearn::OwnedKSP;
using bilearn::OwnedMat;
using bilearn::OwnedVec;

// Uniform number in [0, 1) from (index, seed): splitmix64.
inline double hash01(std::int64_t i, std::uint64_t seed) {
  std::uint64_t z =
      static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
}

// H = L + diag(scale·d_i) − shift·I, d_i = hash01(i, seed); L the 2-D Laplacian (Dirichlet).
inline OwnedMat laplacian(MPI_Comm comm, PetscInt n, double shift, double diag_scale, std::uint64_t seed) {
  const PetscInt size = n * n;
  OwnedMat a;
  BILEARN_CHECK(MatCreateAIJ(comm, PETSC_DECIDE, PETSC_DECIDE, size, size, 5, nullptr, 4, nullptr, a.out()));
  PetscInt r0 = 0, r1 = 0;
  BILEARN_CHECK(MatGetOwnershipRange(a, &r0, &r1));
  for (PetscInt row = r0; row < r1; ++row) {
    const PetscInt i = row / n, j = row % n;
    PetscInt cols[5];
    PetscScalar vals[5];
    PetscInt k = 0;
    if (i > 0) cols[k] = row - n, vals[k++] = -1.0;
    if (j > 0) cols[k] = row - 1, vals[k++] = -1.0;
    cols[k] = row, vals[k++] = 4.0 + diag_scale * hash01(row, seed) - shift;
    if (j < n - 1) cols[k] = row + 1, vals[k++] = -1.0;
    if (i < n - 1) cols[k] = row + n, vals[k++] = -1.0;
    BILEARN_CHECK(MatSetValues(a, 1, &row, k, cols, vals, INSERT_VALUES));
  }
  BILEARN_CHECK(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatSetOption(a, MAT_SYMMETRIC, PETSC_TRUE));
  return a;
}

// Diagonal matrix diag(scale·hash01(i, seed)) with a's layout.
inline OwnedMat random_diagonal(Mat like, double scale, std::uint64_t seed) {
  OwnedVec d;
  BILEARN_CHECK(MatCreateVecs(like, d.out(), nullptr));
  PetscInt r0 = 0, r1 = 0;
  BILEARN_CHECK(VecGetOwnershipRange(d, &r0, &r1));
  for (PetscInt i = r0; i < r1; ++i) BILEARN_CHECK(VecSetValue(d, i, scale * hash01(i, seed), INSERT_VALUES));
  BILEARN_CHECK(VecAssemblyBegin(d));
  BILEARN_CHECK(VecAssemblyEnd(d));
  OwnedMat m;
  PetscInt nloc = 0, n = 0;
  BILEARN_CHECK(VecGetLocalSize(d, &nloc));
  BILEARN_CHECK(VecGetSize(d, &n));
  BILEARN_CHECK(MatCreateAIJ(PetscObjectComm((PetscObject)like), nloc, nloc, n, n, 1, nullptr, 0, nullptr, m.out()));
  BILEARN_CHECK(MatDiagonalSet(m, d, INSERT_VALUES));
  BILEARN_CHECK(MatAssemblyBegin(m, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(m, MAT_FINAL_ASSEMBLY));
  return m;
}

// Vector with entries hash01(i, seed) − 0.5 in a's layout.
inline OwnedVec random_vec(Mat like, std::uint64_t seed) {
  OwnedVec v;
  BILEARN_CHECK(MatCreateVecs(like, v.out(), nullptr));
  PetscInt r0 = 0, r1 = 0;
  BILEARN_CHECK(VecGetOwnershipRange(v, &r0, &r1));
  for (PetscInt i = r0; i < r1; ++i) BILEARN_CHECK(VecSetValue(v, i, hash01(i, seed) - 0.5, INSERT_VALUES));
  BILEARN_CHECK(VecAssemblyBegin(v));
  BILEARN_CHECK(VecAssemblyEnd(v));
  return v;
}

// A KSP of the given type with -pc_type none, tolerances, a fresh options prefix and the
// given options ("-name value" pairs set under that prefix), then KSPSetFromOptions.
inline OwnedKSP make_ksp(MPI_Comm comm, const char* type, const std::string& prefix, double rtol,
                         const std::vector<std::pair<std::string, std::string>>& opts = {}) {
  OwnedKSP ksp = bilearn::krylov::create_ksp(comm, type, prefix, rtol, 10000);
  for (const auto& [name, value] : opts)
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + name.substr(1)).c_str(), value.c_str()));
  BILEARN_CHECK(KSPSetFromOptions(ksp));
  return ksp;
}

struct SolveResult {
  PetscInt its = 0;
  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  std::vector<PetscReal> history;
};

// Solves a x = b (x is the initial guess when nonzero_guess) and returns iterations and history.
inline SolveResult solve(KSP ksp, Mat a, Vec b, Vec x, bool nonzero_guess) {
  SolveResult res;
  res.history.assign(20000, 0.0);
  BILEARN_CHECK(KSPSetResidualHistory(ksp, res.history.data(), 20000, PETSC_TRUE));
  BILEARN_CHECK(KSPSetOperators(ksp, a, a));
  BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp, nonzero_guess ? PETSC_TRUE : PETSC_FALSE));
  BILEARN_CHECK(KSPSolve(ksp, b, x));
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &res.its));
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &res.reason));
  PetscInt nh = 0;
  BILEARN_CHECK(KSPGetResidualHistory(ksp, nullptr, &nh));
  res.history.resize(static_cast<size_t>(nh));
  return res;
}

// ‖b − A x‖ / ‖b‖
inline PetscReal relative_residual(Mat a, Vec b, Vec x) {
  OwnedVec r;
  BILEARN_CHECK(VecDuplicate(b, r.out()));
  BILEARN_CHECK(MatMult(a, x, r));
  BILEARN_CHECK(VecAYPX(r, -1.0, b));
  PetscReal rn = 0, bn = 0;
  BILEARN_CHECK(VecNorm(r, NORM_2, &rn));
  BILEARN_CHECK(VecNorm(b, NORM_2, &bn));
  return rn / bn;
}

// ‖x − y‖ / ‖y‖
inline PetscReal relative_difference(Vec x, Vec y) {
  OwnedVec d;
  BILEARN_CHECK(VecDuplicate(x, d.out()));
  BILEARN_CHECK(VecWAXPY(d, -1.0, y, x));
  PetscReal dn = 0, yn = 0;
  BILEARN_CHECK(VecNorm(d, NORM_2, &dn));
  BILEARN_CHECK(VecNorm(y, NORM_2, &yn));
  return dn / yn;
}

inline KSPRecycleInfo info(KSP ksp) {
  KSPRecycleInfo i{};
  BILEARN_CHECK(KSPRecycleGetInfo(ksp, &i));
  return i;
}

inline bool root() {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  return rank == 0;
}

}  // namespace krylov_test
