// rminres with an SPD preconditioner M⁻¹ (docs/algorithms.md §4.5): KSPMINRES's preconditioned Lanczos
// (Paige–Saunders; v-vectors M⁻¹-orthonormal, u = B v) with the deflated preconditioner
//     B = (I − U W⁻¹Cᵀ) M⁻¹ (I − C W⁻¹Uᵀ),   C = HU, W = UᵀC,
// which is symmetric positive semi-definite. After x₀ += U W⁻¹Uᵀr₀, r₀ −= C W⁻¹Uᵀr₀ every
// v satisfies Uᵀv = 0 (UᵀH u = Cᵀu = 0), so B v = z − U W⁻¹Cᵀz with z = M⁻¹v: one PC apply per
// iteration, Cᵀz fused into the rᵀz reduction, and x is updated with the u-directions (the
// U-part is inside them). H u_k = α v_k + β_k v_{k−1} + β_{k+1} v_{k+1} exactly, so the MINRES
// residual follows the recurrence r_k = s_k² r_{k−1} + c_k η_{k+1} v_{k+1}: the unpreconditioned
// norm (the default) costs one vector update and one norm per iteration. With the preconditioned
// norm and an empty space the operations are KSPMINRES's.
#include "krylov/rminres/rminres_prec.hpp"

#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/recycle/iteration_steps.hpp"
#include "krylov/rminres/minres_rotation.hpp"

namespace bilearn::krylov {

bool run_rminres_preconditioned(KSP ksp, RecycleKsp& d, Mat a, bool use_space) {
  constexpr PetscReal haptol = 1e-50;  // as KSPMINRES
  Vec x = ksp->vec_sol, b = ksp->vec_rhs;
  Vec r = ksp->work[0], z = ksp->work[1], u = ksp->work[2], v = ksp->work[3], w = ksp->work[4];
  Vec uold = ksp->work[5], vold = ksp->work[6], wold = ksp->work[7], woold = ksp->work[8];
  Vec res = ksp->work[9], scratch = ksp->work[10];

  begin_solve(ksp, d, a, use_space);
  const PetscInt s = d.s;
  const bool unprec = ksp->normtype == KSP_NORM_UNPRECONDITIONED;
  DeflatedPreconditioner deflated(d);

  ksp->its = 0;
  ksp->reason = KSP_CONVERGED_ITERATING;
  BILEARN_CHECK(VecSet(uold, 0.0));
  BILEARN_CHECK(VecCopy(uold, vold));
  BILEARN_CHECK(VecCopy(uold, w));
  BILEARN_CHECK(VecCopy(uold, wold));
  initial_residual(ksp, a, x, b, r);
  deflate_initial(d, x, r);

  // z = M⁻¹r, rᵀz and Cᵀz in one reduction, then z̃ = z − U W⁻¹Cᵀz
  PetscReal dp = deflated.apply(ksp, r, z);
  deflated.subtract_space_part(z);
  PetscReal np = 0;
  if (unprec) {
    BILEARN_CHECK(VecCopy(r, res));
    BILEARN_CHECK(VecNorm(res, NORM_2, &np));
  } else {
    BILEARN_CHECK(VecNorm(z, NORM_2, &np));
  }
  if (diverged_on_nan(ksp, np, "norm") || diverged_on_nan(ksp, dp, "norm")) {
    ksp->rnorm = np;
    return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);
  }
  if (dp < haptol && np > haptol) reject_preconditioner(ksp, dp);
  report_residual(ksp, 0, np);
  if (ksp->reason) return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);

  PetscReal beta = std::sqrt(std::abs(dp)), eta = beta;
  MinresRotation rot;
  BILEARN_CHECK(VecCopy(r, v));
  BILEARN_CHECK(VecCopy(z, u));
  BILEARN_CHECK(VecScale(v, 1.0 / beta));
  BILEARN_CHECK(VecScale(u, 1.0 / beta));
  std::vector<PetscScalar> gu(deflated.g());  // W⁻¹Cᵀ(M⁻¹v) of the current u (u = M⁻¹v − U gu)
  for (auto& gi : gu) gi /= beta;
  bool usable = true;

  PetscInt i = 0;
  do {
    ksp->its = i + 1;
    Vec slot = d.pupdater.slot();
    if (slot) BILEARN_CHECK(VecCopy(u, slot));
    BILEARN_CHECK(KSP_MatMult(ksp, a, u, r));  // r = H u
    PetscScalar as = 0;
    BILEARN_CHECK(VecDot(u, r, &as));
    const PetscReal alpha = PetscRealPart(as);
    if (slot) d.pupdater.record(v, r, 1.0, 0.0, gu.data());  // M u = v − MU gu, H u = r
    apply_pc(ksp, d, r, z);
    BILEARN_CHECK(VecAXPY(r, -alpha, v));
    BILEARN_CHECK(VecAXPY(z, -alpha, u));
    BILEARN_CHECK(VecAXPY(r, -beta, vold));
    BILEARN_CHECK(VecAXPY(z, -beta, uold));
    const PetscReal betaold = beta;
    // z̃ = (I − U W⁻¹Cᵀ) z removes the U-parts of z, u, u_old together
    dp = deflated.dot(r, z);
    deflated.subtract_space_part(z);
    if (diverged_on_nan(ksp, dp, "inner product") || diverged_on_nan(ksp, alpha, "inner product")) {
      usable = false;
      break;
    }
    if (dp < 0 && -dp >= haptol) reject_preconditioner(ksp, dp);
    if (dp < haptol) {
      BILEARN_CHECK(PetscInfo(ksp, "Detected happy breakdown %g tolerance %g\n", (double)dp, (double)haptol));
      dp = 0.0;
    }
    beta = std::sqrt(std::abs(dp));

    if (!rot.advance(ksp, i + 1, alpha, betaold, beta)) {
      usable = false;
      break;
    }
    const PetscReal c = rot.c, sn = rot.sn, rho1 = rot.rho1, rho2 = rot.rho2, rho3 = rot.rho3;

    BILEARN_CHECK(VecCopy(wold, woold));
    BILEARN_CHECK(VecCopy(w, wold));
    BILEARN_CHECK(VecCopy(u, w));
    BILEARN_CHECK(VecAXPY(w, -rho2, wold));
    BILEARN_CHECK(VecAXPY(w, -rho3, woold));
    BILEARN_CHECK(VecScale(w, 1.0 / rho1));
    const PetscReal ceta = c * eta;
    BILEARN_CHECK(VecAXPY(x, ceta, w));  // x += c η w

    if (dp < haptol) {  // an invariant subspace: the true residual decides
      BILEARN_CHECK(KSP_MatMult(ksp, a, x, vold));
      BILEARN_CHECK(VecAXPY(vold, -1.0, b));
      BILEARN_CHECK(VecNorm(vold, NORM_2, &np));
      if (unprec) BILEARN_CHECK(VecAXPBY(res, -1.0, 0.0, vold));
    } else if (unprec) {
      // r_k = s² r_{k−1} + c η_{k+1} v_{k+1} with η_{k+1} = −s η, v_{k+1} = r / β
      BILEARN_CHECK(VecAXPBY(res, -c * sn * eta / beta, sn * sn, r));
      BILEARN_CHECK(VecNorm(res, NORM_2, &np));
    } else {
      np *= std::abs(sn);
    }
    eta = -sn * eta;
    BILEARN_CHECK(VecCopy(v, vold));
    BILEARN_CHECK(VecCopy(u, uold));
    BILEARN_CHECK(VecCopy(r, v));
    BILEARN_CHECK(VecCopy(z, u));
    if (beta > 0) {
      BILEARN_CHECK(VecScale(v, 1.0 / beta));
      BILEARN_CHECK(VecScale(u, 1.0 / beta));
      for (PetscInt j = 0; j < s; ++j) gu[static_cast<size_t>(j)] = deflated.g()[static_cast<size_t>(j)] / beta;
    }
    report_residual(ksp, i + 1, np);
    if (ksp->reason) break;
    if (dp < haptol) {
      ksp->reason = KSP_CONVERGED_HAPPY_BREAKDOWN;
      break;
    }
    ++i;
  } while (i < ksp->max_it);
  if (i >= ksp->max_it) ksp->reason = KSP_DIVERGED_ITS;
  return end_solve(ksp, d, a, scratch, usable, nullptr, 1.0);
}

}  // namespace bilearn::krylov
