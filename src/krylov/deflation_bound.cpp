#include "bilearn/krylov/deflation_bound.hpp"

#include <algorithm>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/create_ksp.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "krylov/recycle/eps_init.hpp"
#include "krylov/recycle/vec_block.hpp"

namespace bilearn::krylov {
namespace {

PetscInt solve_from_zero(KSP ksp, Mat h, Vec rhs, Vec x) {
  BILEARN_CHECK(KSPSetOperators(ksp, h, h));
  BILEARN_CHECK(VecSet(x, 0.0));
  BILEARN_CHECK(KSPSolve(ksp, rhs, x));
  PetscInt its = 0;
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
  return its;
}

OwnedKSP make_ksp(Mat h, const char* type, const char* prefix, PetscReal rtol) {
  return create_ksp(PetscObjectComm((PetscObject)h), type, prefix, rtol, 20000);
}

}  // namespace

DeflationBound exact_deflation_bound(Mat h, Vec rhs, PetscInt k, PetscReal rtol) {
  DeflationBound b;
  OwnedVec x;
  BILEARN_CHECK(VecDuplicate(rhs, x.out()));
  OwnedKSP minres = make_ksp(h, KSPMINRES, "bench_exact_minres_", rtol);
  b.minres_iterations = solve_from_zero(minres, h, rhs, x);
  if (k <= 0) return b;

  const double t0 = MPI_Wtime();
  VecBlock vecs;
  vecs.allocate(rhs, k);
  // Half of the space at each end of the spectrum (eigenvalues come out extreme first).
  const PetscInt low = k / 2;
  std::vector<PetscReal> values(static_cast<size_t>(k), 0.0);
  const PetscInt nlow =
      symmetric_eigenvectors(h, EPS_SMALLEST_REAL, low, 1e-8, 5000, "bench_exact_", vecs.data(), values.data());
  const PetscInt nhigh = symmetric_eigenvectors(h, EPS_LARGEST_REAL, k - low, 1e-8, 5000, "bench_exact_",
                                                vecs.data() + nlow, values.data() + nlow);
  const PetscInt filled = nlow + nhigh;
  b.lambda_min = nlow > 0 ? values[0] : 0;
  b.lambda_max = nhigh > 0 ? values[static_cast<size_t>(nlow)] : 0;
  b.eps_seconds = MPI_Wtime() - t0;
  b.eigenvectors = filled;

  // The exact eigenvectors, frozen for the solve (no update); C = H U with this H.
  OwnedKSP rminres = make_ksp(h, KSPRMINRES, "bench_exact_rminres_", rtol);
  BILEARN_CHECK(KSPRecycleSetK(rminres, k));
  BILEARN_CHECK(KSPRecycleSetUpdate(rminres, PETSC_FALSE));
  BILEARN_CHECK(KSPSetFromOptions(rminres));
  BILEARN_CHECK(KSPRecycleSetSpace(rminres, filled, vecs.data()));
  b.deflated_iterations = solve_from_zero(rminres, h, rhs, x);
  return b;
}

}  // namespace bilearn::krylov
