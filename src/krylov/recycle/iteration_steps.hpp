// Internal: the steps every recycling iteration (rminres, rcg, with and without a
// preconditioner) takes in the same way: the initial residual, the residual report and
// convergence test, the stop on a NaN/Inf, and the deflated preconditioner of the
// preconditioned forms (docs/algorithms.md §4.5). Not for use outside src/krylov.
#pragma once
#include <petsc/private/kspimpl.h>

#include <vector>

#include "krylov/recycle/recycle_ksp.hpp"

namespace bilearn::krylov {

// r = b − A x, or r = b when the initial guess is zero.
void initial_residual(KSP ksp, Mat a, Vec x, Vec b, Vec r);

// Records the residual norm of iteration `it` (0 with KSP_NORM_NONE), monitors it and runs the
// convergence test, which sets ksp->reason.
void report_residual(KSP ksp, PetscInt it, PetscReal rnorm);

// True (and ksp->reason = KSP_DIVERGED_NANORINF) when `value` is NaN or Inf; throws
// NumericalError instead when the KSP must error if not converged. `what` names the value
// ("norm", "inner product") in the message.
bool diverged_on_nan(KSP ksp, PetscReal value, const char* what);

// The deflated preconditioner of the preconditioned forms: z = M⁻¹r, then rᵀz and, with a
// space, g = W⁻¹Cᵀz in one reduction, so that z̃ = z − U g has UᵀH z̃ = Cᵀz̃ = 0.
class DeflatedPreconditioner {
 public:
  explicit DeflatedPreconditioner(RecycleKsp& d);
  // z = M⁻¹r (one PC apply); returns rᵀz and sets g.
  PetscReal apply(KSP ksp, Vec r, Vec z);
  // rᵀz and g for a z already formed.
  PetscReal dot(Vec r, Vec z);
  // z −= U g (nothing without a space).
  void subtract_space_part(Vec z);
  const std::vector<PetscScalar>& g() const { return g_; }

 private:
  RecycleKsp& d_;
  std::vector<Vec> zlist_;  // [r, C]
  std::vector<PetscScalar> zout_, g_, negg_;
};

}  // namespace bilearn::krylov
