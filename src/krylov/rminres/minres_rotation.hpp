// Internal: the QR factorisation of the Lanczos tridiagonal by Givens rotations, as KSPMINRES
// (Paige–Saunders), shared by rminres with and without a preconditioner. Step k takes α_k, β_k
// (the previous off-diagonal) and β_{k+1}; it gives R's entries ρ₁ (diagonal), ρ₂, ρ₃ of column
// k and the rotation (c, s) that maps η_k to c η_k (the step along w_k) and η_{k+1} = −s η_k.
#pragma once
#include <petsc/private/kspimpl.h>

#include <cmath>

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {

struct MinresRotation {
  PetscReal c = 1.0, cold = 1.0, coold = 1.0, sn = 0.0, sold = 0.0, soold = 0.0;
  PetscReal rho1 = 0.0, rho2 = 0.0, rho3 = 0.0;

  // Returns false (ksp->reason = KSP_DIVERGED_BREAKDOWN) when ρ₁ is zero or not finite: the
  // tridiagonal is singular in a way the recurrence cannot continue (never divide by zero).
  bool advance(KSP ksp, PetscInt iteration, PetscReal alpha, PetscReal betaold, PetscReal beta) {
    coold = cold;
    cold = c;
    soold = sold;
    sold = sn;
    const PetscReal rho0 = cold * alpha - coold * sold * betaold;
    rho1 = std::sqrt(rho0 * rho0 + beta * beta);
    rho2 = sold * alpha + coold * cold * betaold;
    rho3 = soold * betaold;
    if (!(rho1 > 0) || !std::isfinite(rho1)) {
      BILEARN_CHECK(PetscInfo(ksp, "breakdown: rho1 = %g at iteration %" PetscInt_FMT "\n", (double)rho1, iteration));
      ksp->reason = KSP_DIVERGED_BREAKDOWN;
      return false;
    }
    c = rho0 / rho1;
    sn = beta / rho1;
    return true;
  }
};

}  // namespace bilearn::krylov
