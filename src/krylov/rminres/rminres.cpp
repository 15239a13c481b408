// KSP type "rminres": recycled MINRES (docs/algorithms.md §4.1; Wang, de Sturler, Paulino 2007).
// Lanczos on the projected operator (I − CCᵀ)H from r₀ ⟂ C, with the MINRES Givens
// recurrences of KSPMINRES (Paige–Saunders). With an empty space the operations are those of
// KSPMINRES with -pc_type none, so iterates and iteration counts are the same. With a
// preconditioner: rminres_prec.cpp.
#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/recycle/iteration_steps.hpp"
#include "krylov/recycle/recycle_ksp.hpp"
#include "krylov/rminres/minres_rotation.hpp"
#include "krylov/rminres/rminres_prec.hpp"

namespace bilearn::krylov {
namespace {

#if defined(PETSC_USE_REAL_SINGLE)
constexpr PetscReal kHapTol = 1e-25;
#else
constexpr PetscReal kHapTol = 1e-50;  // as KSPMINRES
#endif

// One pass of the iteration (x₀ from ksp->vec_sol unless guess_zero). Returns false when the
// true-residual check failed (space reset: the caller runs again without it).
bool run(KSP ksp, RecycleKsp& d, Mat a, bool use_space) {
  if (has_preconditioner(ksp)) return run_rminres_preconditioned(ksp, d, a, use_space);
  Vec x = ksp->vec_sol, b = ksp->vec_rhs;
  Vec r = ksp->work[0], v = ksp->work[1], vold = ksp->work[2];
  Vec w[3] = {ksp->work[3], ksp->work[4], ksp->work[5]};  // free, w_{k−1}, w_{k−2}
  Vec scratch = ksp->work[6];

  begin_solve(ksp, d, a, use_space);
  const PetscInt s = d.s, nz = d.nz;
  const bool fused = s > 0 || nz > 0;
  Vec* cvec = d.space.c();

  ksp->its = 0;
  ksp->reason = KSP_CONVERGED_ITERATING;
  BILEARN_CHECK(VecSet(vold, 0.0));
  BILEARN_CHECK(VecSet(w[1], 0.0));
  BILEARN_CHECK(VecSet(w[2], 0.0));
  initial_residual(ksp, a, x, b, r);
  // r ⟂ C: x₀ += U Cᵀr, r −= C Cᵀr
  std::vector<PetscScalar> t(static_cast<size_t>(s));
  if (s > 0) d.space.project(x, r, t.data());

  PetscReal np = 0, dp = 0;
  std::vector<PetscReal> f(static_cast<size_t>(nz), 0.0), zv(static_cast<size_t>(nz), 0.0),
      zvold(static_cast<size_t>(nz), 0.0), zw(static_cast<size_t>(nz), 0.0);
  if (!fused) {
    BILEARN_CHECK(VecNorm(r, NORM_2, &np));
    PetscScalar dps = 0;
    BILEARN_CHECK(VecDot(r, r, &dps));
    dp = PetscRealPart(dps);
  } else {
    // ‖r‖² and Zᵀr in one reduction
    std::vector<Vec> list{r};
    for (PetscInt i = 0; i < nz; ++i) list.push_back(d.updater.nsc_z()[i]);
    std::vector<PetscScalar> out(list.size());
    BILEARN_CHECK(VecMDot(r, static_cast<PetscInt>(list.size()), list.data(), out.data()));
    dp = PetscRealPart(out[0]);
    np = std::sqrt(std::max<PetscReal>(dp, 0.0));
    for (PetscInt i = 0; i < nz; ++i) f[static_cast<size_t>(i)] = PetscRealPart(out[static_cast<size_t>(i + 1)]);
  }
  if (diverged_on_nan(ksp, np, "norm") || diverged_on_nan(ksp, dp, "norm")) {
    ksp->rnorm = np;
    return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);
  }
  auto nsc_norm = [&]() {
    PetscReal e = 0;
    for (PetscReal fi : f) e += fi * fi;
    return std::sqrt(e);
  };
  report_residual(ksp, 0, np);
  if (!ksp->reason && nz > 0) {
    d.info.nsc_estimate = nsc_norm();
    if (nsc_says_stop(d, d.info.nsc_estimate, np)) {
      ksp->reason = KSP_CONVERGED_ATOL;
      d.info.nsc_stopped = PETSC_TRUE;
    }
  }
  if (ksp->reason) return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);

  PetscReal beta = std::sqrt(std::abs(dp)), eta = beta;
  MinresRotation rot;
  BILEARN_CHECK(VecCopy(r, v));
  BILEARN_CHECK(VecScale(v, 1.0 / beta));  // v₁ = r / β₁
  for (PetscInt i = 0; i < nz; ++i) zv[static_cast<size_t>(i)] = f[static_cast<size_t>(i)] / beta;

  // U-part of the update: ẽ_k = (h_k − ρ₂ ẽ_{k−1} − ρ₃ ẽ_{k−2}) / ρ₁ (the same recurrence as w_k)
  std::vector<PetscScalar> e0(static_cast<size_t>(s)), e1(static_cast<size_t>(s), 0.0), e2(static_cast<size_t>(s), 0.0),
      negh(static_cast<size_t>(s + 2));
  std::vector<Vec> wlist(static_cast<size_t>(s + 2));  // [C, v_k, v_{k−1}]
  for (PetscInt j = 0; j < s; ++j) wlist[static_cast<size_t>(j)] = cvec[j];
  PetscScalar* h = d.fused.data();
  Vec next = nullptr;  // v_{K+1}·(1/β) for the space update
  PetscReal next_scale = 1.0;
  bool usable = true;

  PetscInt i = 0;
  do {
    ksp->its = i + 1;
    d.updater.push(v, 1.0);
    // Lanczos on (I − CCᵀ)H: q = H v; h = Cᵀq and α = vᵀq (and Zᵀq for NSC) in one reduction.
    BILEARN_CHECK(KSP_MatMult(ksp, a, v, r));
    PetscReal alpha = 0;
    if (!fused) {
      PetscScalar as = 0;
      BILEARN_CHECK(VecDot(v, r, &as));
      alpha = PetscRealPart(as);
    } else {
      d.fused_list[static_cast<size_t>(s)] = v;
      d.kernels.mdot(r, s + 1 + nz, d.fused_list.data(), d.fused.data());
      alpha = PetscRealPart(d.fused[static_cast<size_t>(s)]);
    }
    const PetscReal betaold = beta;
    if (s == 0) {  // KSPMINRES's sequence
      BILEARN_CHECK(VecAXPY(r, -alpha, v));
      BILEARN_CHECK(VecAXPY(r, -beta, vold));
      PetscScalar dps = 0;
      BILEARN_CHECK(VecDot(r, r, &dps));
      dp = PetscRealPart(dps);
    } else {  // ŵ = q − C h − α v_k − β_k v_{k−1} and ‖ŵ‖² in one pass
      for (PetscInt j = 0; j < s; ++j) negh[static_cast<size_t>(j)] = -h[j];
      negh[static_cast<size_t>(s)] = -alpha;
      negh[static_cast<size_t>(s + 1)] = -beta;
      wlist[static_cast<size_t>(s)] = v;
      wlist[static_cast<size_t>(s + 1)] = vold;
      dp = d.kernels.maxpy_norm(r, s + 2, negh.data(), wlist.data());
    }
    if (diverged_on_nan(ksp, dp, "inner product") || diverged_on_nan(ksp, alpha, "inner product")) {
      usable = false;
      break;
    }
    beta = std::sqrt(std::abs(dp));

    // QR factorisation of the tridiagonal by Givens rotations (as KSPMINRES)
    if (!rot.advance(ksp, i + 1, alpha, betaold, beta)) {
      usable = false;
      break;
    }
    const PetscReal c = rot.c, sn = rot.sn, rho1 = rot.rho1, rho2 = rot.rho2, rho3 = rot.rho3;

    // w_k = (v_k − ρ₂ w_{k−1} − ρ₃ w_{k−2}) / ρ₁ into the free buffer, then rotate
    if (s == 0) {  // KSPMINRES's exact sequence of operations
      BILEARN_CHECK(VecCopy(v, w[0]));
      BILEARN_CHECK(VecAXPY(w[0], -rho2, w[1]));
      BILEARN_CHECK(VecAXPY(w[0], -rho3, w[2]));
      BILEARN_CHECK(VecScale(w[0], 1.0 / rho1));
      std::swap(w[2], w[0]);  // free ← w_{k−2}
      std::swap(w[1], w[2]);  // w_{k−2} ← w_{k−1}, w_{k−1} ← w_k
    } else {                  // one fused pass in the storage of w_{k−2}
      BILEARN_CHECK(VecAXPBYPCZ(w[2], 1.0 / rho1, -rho2 / rho1, -rho3 / rho1, v, w[1]));
      std::swap(w[1], w[2]);
    }
    const PetscReal ceta = c * eta;
    BILEARN_CHECK(VecAXPY(x, ceta, w[1]));  // x += c η w_k
    if (s > 0) {
      for (PetscInt j = 0; j < s; ++j) {
        const PetscScalar ek = (h[j] - rho2 * e1[static_cast<size_t>(j)] - rho3 * e2[static_cast<size_t>(j)]) / rho1;
        e0[static_cast<size_t>(j)] = ek;
        d.zacc[static_cast<size_t>(j)] += ceta * ek;
      }
      std::swap(e2, e1);
      std::swap(e1, e0);
    }
    d.updater.set_coefficients(alpha, beta, h);
    const PetscReal eta_new = -sn * eta;
    if (nz > 0) {
      // MINRES residual r_k = s_k² r_{k−1} + c_k η_k v_{k+1}, so Zᵀr_k follows from
      // Zᵀŵ = Zᵀq − (ZᵀC)h − α Zᵀv_k − β_k Zᵀv_{k−1} with v_{k+1} = ŵ/β_{k+1}.
      for (PetscInt j = 0; j < nz; ++j) {
        PetscReal zq = PetscRealPart(d.fused[static_cast<size_t>(s + 1 + j)]);
        for (PetscInt l = 0; l < s; ++l) zq -= d.ztc(j, l) * PetscRealPart(h[l]);
        zw[static_cast<size_t>(j)] = zq - alpha * zv[static_cast<size_t>(j)] - betaold * zvold[static_cast<size_t>(j)];
      }
      for (PetscInt j = 0; j < nz; ++j) {
        const PetscReal zvn = beta > 0 ? zw[static_cast<size_t>(j)] / beta : 0.0;
        f[static_cast<size_t>(j)] = sn * sn * f[static_cast<size_t>(j)] + c * eta_new * zvn;
        zvold[static_cast<size_t>(j)] = zv[static_cast<size_t>(j)];
        zv[static_cast<size_t>(j)] = zvn;
      }
    }

    if (dp < kHapTol) {
      // β ≈ 0: an invariant subspace; take the true residual of the corrected iterate
      BILEARN_CHECK(PetscInfo(ksp, "Lanczos breakdown (beta^2 = %g): invariant subspace\n", (double)dp));
      BILEARN_CHECK(VecCopy(x, scratch));
      if (s > 0) {
        for (PetscInt j = 0; j < s; ++j) negh[static_cast<size_t>(j)] = -d.zacc[static_cast<size_t>(j)];
        BILEARN_CHECK(VecMAXPY(scratch, s, negh.data(), d.space.u()));
      }
      BILEARN_CHECK(KSP_MatMult(ksp, a, scratch, vold));
      BILEARN_CHECK(VecAXPY(vold, -1.0, b));
      BILEARN_CHECK(VecNorm(vold, NORM_2, &np));
    } else {
      np *= std::abs(sn);
    }
    report_residual(ksp, i + 1, np);
    if (!ksp->reason && nz > 0) {
      d.info.nsc_estimate = nsc_norm();
      if (nsc_says_stop(d, d.info.nsc_estimate, np)) {
        ksp->reason = KSP_CONVERGED_ATOL;
        d.info.nsc_stopped = PETSC_TRUE;
      }
    }
    if (ksp->reason) {
      if (dp >= kHapTol) {
        next = r;
        next_scale = 1.0 / beta;
      }
      break;
    }
    if (dp < kHapTol) {
      ksp->reason = KSP_CONVERGED_HAPPY_BREAKDOWN;
      break;
    }
    eta = eta_new;
    // v_{k+1} = ŵ / β_{k+1}: rotate storage (vold ← v, v ← r) instead of copying
    std::swap(vold, v);
    std::swap(v, r);
    BILEARN_CHECK(VecScale(v, 1.0 / beta));
    ++i;
  } while (i < ksp->max_it);
  if (i >= ksp->max_it) {
    ksp->reason = KSP_DIVERGED_ITS;
    next = v;
    next_scale = 1.0;
  }
  return end_solve(ksp, d, a, scratch, usable, next, next_scale);
}

}  // namespace
}  // namespace bilearn::krylov

PetscErrorCode KSPCreate_RMINRES(KSP ksp) {
  return bilearn::guarded(PetscObjectComm((PetscObject)ksp), __func__,
                          [&] { bilearn::krylov::create_recycle_ksp(ksp, KSPRMINRES, bilearn::krylov::run); });
}
