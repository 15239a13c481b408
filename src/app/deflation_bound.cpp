#include "bilearn/app/deflation_bound.hpp"

#include <slepceps.h>

#include <algorithm>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/vec_block.hpp"

namespace bilearn {
namespace {

using OwnedEPS = Handle<EPS, EPSDestroy>;

// Up to `count` eigenvectors of the symmetric h at one end of the spectrum, appended to out.
// Returns the extreme eigenvalue found (the first one).
PetscReal eigenvectors_at_end(Mat h, EPSWhich which, PetscInt count, krylov::VecBlock& out, PetscInt& filled) {
  OwnedEPS eps;
  BILEARN_CHECK(EPSCreate(PetscObjectComm((PetscObject)h), eps.out()));
  BILEARN_CHECK(EPSSetOperators(eps, h, nullptr));
  BILEARN_CHECK(EPSSetProblemType(eps, EPS_HEP));
  BILEARN_CHECK(EPSSetWhichEigenpairs(eps, which));
  BILEARN_CHECK(EPSSetDimensions(eps, count, PETSC_DEFAULT, PETSC_DEFAULT));
  BILEARN_CHECK(EPSSetTolerances(eps, 1e-8, 5000));
  BILEARN_CHECK(EPSSetOptionsPrefix(eps, "bench_exact_"));
  BILEARN_CHECK(EPSSetFromOptions(eps));
  BILEARN_CHECK(EPSSolve(eps));
  PetscInt nconv = 0;
  BILEARN_CHECK(EPSGetConverged(eps, &nconv));
  PetscReal extreme = 0;
  for (PetscInt i = 0; i < std::min(nconv, count); ++i) {
    PetscScalar lambda = 0;
    BILEARN_CHECK(EPSGetEigenpair(eps, i, &lambda, nullptr, out[filled], nullptr));
    if (i == 0) extreme = PetscRealPart(lambda);
    ++filled;
  }
  return extreme;
}

PetscInt solve_from_zero(KSP ksp, Mat h, Vec rhs, Vec x) {
  BILEARN_CHECK(KSPSetOperators(ksp, h, h));
  BILEARN_CHECK(VecSet(x, 0.0));
  BILEARN_CHECK(KSPSolve(ksp, rhs, x));
  PetscInt its = 0;
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
  return its;
}

OwnedKSP make_ksp(Mat h, const char* type, const char* prefix, PetscReal rtol) {
  OwnedKSP ksp;
  BILEARN_CHECK(KSPCreate(PetscObjectComm((PetscObject)h), ksp.out()));
  BILEARN_CHECK(KSPSetOptionsPrefix(ksp, prefix));
  BILEARN_CHECK(KSPSetType(ksp, type));
  PC pc;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, PCNONE));
  BILEARN_CHECK(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, 20000));
  return ksp;
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
  krylov::VecBlock vecs;
  vecs.allocate(rhs, k);
  PetscInt filled = 0;
  b.lambda_min = eigenvectors_at_end(h, EPS_SMALLEST_REAL, k / 2, vecs, filled);
  b.lambda_max = eigenvectors_at_end(h, EPS_LARGEST_REAL, k - k / 2, vecs, filled);
  b.eps_seconds = MPI_Wtime() - t0;
  b.eigenvectors = filled;

  // A frozen space (no update, no check against a stale C: C is computed with this H).
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-bench_exact_rminres_ksp_recycle_update", "false"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-bench_exact_rminres_ksp_recycle_k", std::to_string(k).c_str()));
  OwnedKSP rminres = make_ksp(h, KSPRMINRES, "bench_exact_rminres_", rtol);
  BILEARN_CHECK(KSPSetFromOptions(rminres));
  BILEARN_CHECK(KSPRecycleSetSpace(rminres, filled, vecs.data()));
  b.deflated_iterations = solve_from_zero(rminres, h, rhs, x);
  return b;
}

}  // namespace bilearn
