// rcg with an SPD preconditioner M⁻¹: deflated PCG in the A-DEF2 form (docs/algorithms.md §4.5;
// Tang, Nabben, Vuik, Erlangga 2009) with C = HU and W = UᵀC from the prepared space:
//     x₀ += U W⁻¹Uᵀr₀,  r₀ −= C W⁻¹Uᵀr₀                      (Uᵀr = 0 from here on)
//     z = M⁻¹r;  rᵀz and g = W⁻¹Cᵀz (one reduction);  z̃ = z − U g;  p = z̃ + βp
//     w = Hp;  a = rᵀz / pᵀw;  x += a p;  r −= a w
// UᵀHp = Cᵀz̃ = 0, so r stays ⟂ U without projecting it; one PC apply and one H apply per
// iteration, s inner products fused into the rᵀz reduction and one s-term update of p. With an
// empty space the operations are KSPCG's (same iterates, same counts). The z̃ with M z̃ = r − MU g
// and H z̃ = w_j − β_j w_{j−1} feed the update (Ritz pairs of M⁻¹H, prec_update.hpp).
#include "krylov/rcg/rcg_prec.hpp"

#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/recycle/iteration_steps.hpp"

namespace bilearn::krylov {

bool run_rcg_preconditioned(KSP ksp, RecycleKsp& d, Mat a, bool use_space) {
  Vec x = ksp->vec_sol, b = ksp->vec_rhs;
  Vec r = ksp->work[0], p = ksp->work[1], w = ksp->work[2], z = ksp->work[3], scratch = ksp->work[4];

  begin_solve(ksp, d, a, use_space);
  DeflatedPreconditioner deflated(d);

  ksp->its = 0;
  ksp->reason = KSP_CONVERGED_ITERATING;
  initial_residual(ksp, a, x, b, r);
  deflate_initial(d, x, r);

  // z = M⁻¹r; rᵀz and (for s > 0) g = W⁻¹Cᵀz in one reduction
  PetscReal beta = 0;
  auto precondition = [&]() { beta = deflated.apply(ksp, r, z); };
  PetscReal dp = 0;
  bool have_z = false;
  if (ksp->normtype == KSP_NORM_PRECONDITIONED) {
    precondition();
    have_z = true;
    BILEARN_CHECK(VecNorm(z, NORM_2, &dp));
  } else if (ksp->normtype == KSP_NORM_UNPRECONDITIONED) {
    BILEARN_CHECK(VecNorm(r, NORM_2, &dp));
  }
  if (diverged_on_nan(ksp, dp, "norm")) {
    ksp->rnorm = dp;
    return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);
  }
  report_residual(ksp, 0, dp);
  if (ksp->reason) return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);
  if (!have_z) precondition();

  PetscReal betaold = 0, dpi = 0;
  bool usable = true;
  PetscInt i = 0;
  do {
    ksp->its = i + 1;
    if (beta == 0.0) {
      ksp->reason = KSP_CONVERGED_ATOL;
      BILEARN_CHECK(PetscInfo(ksp, "converged due to beta = 0\n"));
      break;
    }
    if (!(beta > 0.0)) {
      if (diverged_on_nan(ksp, beta, "inner product")) {
        usable = false;
        break;
      }
      reject_preconditioner(ksp, beta);
    }
    const PetscReal bcoef = i == 0 ? 0.0 : beta / betaold;
    // z̃ = z − U g, into the update's slot when it records (else in z itself)
    Vec slot = d.pupdater.slot();
    Vec zt = z;
    if (slot) {
      BILEARN_CHECK(VecCopy(z, slot));
      zt = slot;
    }
    deflated.subtract_space_part(zt);  // nothing without a space
    if (i == 0) {
      BILEARN_CHECK(VecCopy(zt, p));
    } else {
      BILEARN_CHECK(VecAYPX(p, bcoef, zt));  // p = z̃ + β p
    }
    const PetscReal dpiold = dpi;
    BILEARN_CHECK(KSP_MatMult(ksp, a, p, w));
    PetscScalar ds = 0;
    BILEARN_CHECK(VecDot(p, w, &ds));
    dpi = PetscRealPart(ds);
    betaold = beta;
    if (diverged_on_nan(ksp, dpi, "inner product")) {
      usable = false;
      break;
    }
    if (dpi == 0.0 || (i > 0 && (dpi > 0) != (dpiold > 0))) {  // as KSPCG: pᵀHp changed sign
      if (ksp->errorifnotconverged) throw NumericalError("KSP rcg: indefinite or negative definite operator");
      BILEARN_CHECK(
          PetscInfo(ksp, "diverging due to indefinite or negative definite matrix: p'Hp = %g\n", (double)dpi));
      ksp->reason = KSP_DIVERGED_INDEFINITE_MAT;
      usable = false;
      break;
    }
    // the update's record of z̃_i: M z̃ = r − MU g, H z̃ = w_i − β_i w_{i−1}, scaled to unit M-norm
    if (slot) d.pupdater.record(r, w, 1.0 / std::sqrt(beta), bcoef, deflated.g().data());
    const PetscReal alpha = beta / dpi;
    BILEARN_CHECK(VecAXPY(x, alpha, p));
    BILEARN_CHECK(VecAXPY(r, -alpha, w));
    if (ksp->normtype == KSP_NORM_PRECONDITIONED) {
      precondition();
      BILEARN_CHECK(VecNorm(z, NORM_2, &dp));
    } else if (ksp->normtype == KSP_NORM_UNPRECONDITIONED) {
      BILEARN_CHECK(VecNorm(r, NORM_2, &dp));
    }
    if (diverged_on_nan(ksp, dp, "norm")) {
      usable = false;
      break;
    }
    report_residual(ksp, i + 1, dp);
    if (ksp->reason) break;
    if (ksp->normtype != KSP_NORM_PRECONDITIONED) precondition();
    ++i;
  } while (i < ksp->max_it);
  if (i >= ksp->max_it) ksp->reason = KSP_DIVERGED_ITS;
  return end_solve(ksp, d, a, scratch, usable, nullptr, 1.0);
}

}  // namespace bilearn::krylov
