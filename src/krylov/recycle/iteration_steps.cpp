#include "krylov/recycle/iteration_steps.hpp"

#include <string>

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {

void initial_residual(KSP ksp, Mat a, Vec x, Vec b, Vec r) {
  if (ksp->guess_zero) {
    BILEARN_CHECK(VecCopy(b, r));
    return;
  }
  BILEARN_CHECK(KSP_MatMult(ksp, a, x, r));
  BILEARN_CHECK(VecAYPX(r, -1.0, b));
}

void report_residual(KSP ksp, PetscInt it, PetscReal rnorm) {
  ksp->rnorm = ksp->normtype != KSP_NORM_NONE ? rnorm : 0.0;
  BILEARN_CHECK(KSPLogResidualHistory(ksp, ksp->rnorm));
  BILEARN_CHECK(KSPMonitor(ksp, it, ksp->rnorm));
  BILEARN_CHECK((*ksp->converged)(ksp, it, ksp->rnorm, &ksp->reason, ksp->cnvP));
}

bool diverged_on_nan(KSP ksp, PetscReal value, const char* what) {
  if (!PetscIsInfOrNanReal(value)) return false;
  if (ksp->errorifnotconverged) throw NumericalError(std::string("KSPSolve has not converged due to Nan or Inf ") + what);
  ksp->reason = KSP_DIVERGED_NANORINF;
  return true;
}

DeflatedPreconditioner::DeflatedPreconditioner(RecycleKsp& d)
    : d_(d),
      zlist_(static_cast<size_t>(d.s + 1)),
      zout_(static_cast<size_t>(d.s + 1)),
      g_(static_cast<size_t>(d.s)),
      negg_(static_cast<size_t>(d.s)) {
  for (PetscInt j = 0; j < d.s; ++j) zlist_[static_cast<size_t>(j + 1)] = d.space.c()[j];
}

PetscReal DeflatedPreconditioner::apply(KSP ksp, Vec r, Vec z) {
  apply_pc(ksp, d_, r, z);
  return dot(r, z);
}

PetscReal DeflatedPreconditioner::dot(Vec r, Vec z) {
  const PetscInt s = d_.s;
  if (s == 0) {
    PetscScalar rz = 0;
    BILEARN_CHECK(VecDot(z, r, &rz));
    return PetscRealPart(rz);
  }
  zlist_[0] = r;
  d_.kernels.mdot(z, s + 1, zlist_.data(), zout_.data());
  apply_winv(d_, zout_.data() + 1, g_.data());
  return PetscRealPart(zout_[0]);
}

void DeflatedPreconditioner::subtract_space_part(Vec z) {
  const PetscInt s = d_.s;
  if (s == 0) return;
  for (PetscInt j = 0; j < s; ++j) negg_[static_cast<size_t>(j)] = -g_[static_cast<size_t>(j)];
  BILEARN_CHECK(VecMAXPY(z, s, negg_.data(), d_.space.u()));
}

}  // namespace bilearn::krylov
