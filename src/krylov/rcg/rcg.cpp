// KSP type "rcg": recycled (deflated / augmented) CG for SPD H. The initial guess is corrected
// in span(U) so that r₀ ⟂ C; then CG runs on the projected operator (I − CCᵀ)H, which is
// symmetric positive definite on C⊥:
//     q = H p;  h = Cᵀq, pᵀq (one reduction)
//     a = rᵀr / pᵀq;  x += a p;  r −= a (q − C h), rᵀr (one pass);  z += a h   (x −= U z at the end)
// so that H(x − U z) = b − r with r ⟂ C. With an empty space the operations are those of
// KSPCG with -pc_type none (iteration counts equal). pᵀHp ≤ 0 stops with
// KSP_DIVERGED_INDEFINITE_MAT. The normalised residuals are the Lanczos vectors of (I − CCᵀ)H:
//     v_{i+1} = (−1)ⁱ r_i/‖r_i‖,  T_ii = 1/a_i + b_{i−1}/a_{i−1},  T_{i+1,i} = √b_i / a_i,
//     Cᵀ H v_{i+1} = (−1)ⁱ (h_i − b_{i−1} h_{i−1}) / ‖r_i‖        (h_i = Cᵀ H p_i),
// which feed the recycle-space update exactly as for rminres. With a preconditioner the
// iteration is deflated PCG (rcg_prec.cpp).
#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/rcg/rcg_prec.hpp"
#include "krylov/recycle/iteration_steps.hpp"
#include "krylov/recycle/recycle_ksp.hpp"

namespace bilearn::krylov {
namespace {

bool run(KSP ksp, RecycleKsp& d, Mat a, bool use_space) {
  if (has_preconditioner(ksp)) return run_rcg_preconditioned(ksp, d, a, use_space);
  Vec x = ksp->vec_sol, b = ksp->vec_rhs;
  Vec r = ksp->work[0], p = ksp->work[1], w = ksp->work[2], scratch = ksp->work[4];

  begin_solve(ksp, d, a, use_space);
  const PetscInt s = d.s, nz = d.nz;
  const bool fused = s > 0 || nz > 0;
  Vec* cvec = d.space.c();

  ksp->its = 0;
  ksp->reason = KSP_CONVERGED_ITERATING;
  initial_residual(ksp, a, x, b, r);
  std::vector<PetscScalar> t(static_cast<size_t>(s));
  if (s > 0) d.space.project(x, r, t.data());

  // ‖r‖ (and rᵀr, Zᵀr in the same reduction when recycling)
  std::vector<Vec> rlist{r};
  for (PetscInt i = 0; i < nz; ++i) rlist.push_back(d.updater.nsc_z()[i]);
  std::vector<PetscScalar> rout(rlist.size());
  std::vector<PetscReal> f(static_cast<size_t>(nz), 0.0);
  PetscReal dp = 0, rr = 0;
  auto residual_norm = [&](bool have_rr) {
    if (!fused) {
      BILEARN_CHECK(VecNorm(r, NORM_2, &dp));
    } else if (have_rr) {
      dp = std::sqrt(std::max<PetscReal>(rr, 0.0));
    } else {
      d.kernels.mdot(r, static_cast<PetscInt>(rlist.size()), rlist.data(), rout.data());
      rr = PetscRealPart(rout[0]);
      dp = std::sqrt(std::max<PetscReal>(rr, 0.0));
      for (PetscInt i = 0; i < nz; ++i) f[static_cast<size_t>(i)] = PetscRealPart(rout[static_cast<size_t>(i + 1)]);
    }
  };
  auto nsc_check = [&]() {
    if (ksp->reason || nz == 0) return;
    PetscReal e = 0;
    for (PetscReal fi : f) e += fi * fi;
    d.info.nsc_estimate = std::sqrt(e);
    if (nsc_says_stop(d, d.info.nsc_estimate, dp)) {
      ksp->reason = KSP_CONVERGED_ATOL;
      d.info.nsc_stopped = PETSC_TRUE;
    }
  };
  residual_norm(false);
  if (diverged_on_nan(ksp, dp, "norm")) {
    ksp->rnorm = dp;
    return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);
  }
  report_residual(ksp, 0, dp);
  nsc_check();
  if (ksp->reason) return end_solve(ksp, d, a, scratch, false, nullptr, 1.0);

  PetscReal beta = 0, betaold = 0, bcoef = 0, aold = 0, bold = 0;
  if (!fused) {
    PetscScalar bs = 0;
    BILEARN_CHECK(VecDot(r, r, &bs));
    beta = PetscRealPart(bs);
  } else {
    beta = rr;
  }
  std::vector<PetscScalar> negh(static_cast<size_t>(s + 1)), hv(static_cast<size_t>(s)),
      hpold(static_cast<size_t>(s), 0.0);
  std::vector<Vec> rlist_q(static_cast<size_t>(s + 1));  // [q, C]
  rlist_q[0] = w;
  for (PetscInt j = 0; j < s; ++j) rlist_q[static_cast<size_t>(j + 1)] = cvec[j];
  PetscScalar* hp = d.fused.data();
  PetscReal sign = 1.0;  // (−1)ⁱ
  Vec next = nullptr;
  PetscReal next_scale = 1.0;
  bool usable = true;

  PetscInt i = 0;
  do {
    ksp->its = i + 1;
    if (beta == 0.0) {
      ksp->reason = KSP_CONVERGED_ATOL;
      BILEARN_CHECK(PetscInfo(ksp, "converged due to beta = 0\n"));
      break;
    }
    const PetscReal rho = std::sqrt(beta);
    d.updater.push(r, sign / rho);
    if (i == 0) {
      BILEARN_CHECK(VecCopy(r, p));
      bcoef = 0.0;
    } else {
      bcoef = beta / betaold;
      BILEARN_CHECK(VecAYPX(p, bcoef, r));  // p = r + b p
    }
    BILEARN_CHECK(KSP_MatMult(ksp, a, p, w));
    PetscReal dpi = 0;
    if (!fused) {
      PetscScalar ds = 0;
      BILEARN_CHECK(VecDot(p, w, &ds));
      dpi = PetscRealPart(ds);
    } else {
      d.fused_list[static_cast<size_t>(s)] = p;
      d.kernels.mdot(w, s + 1, d.fused_list.data(), d.fused.data());  // h = Cᵀq, pᵀq
      dpi = PetscRealPart(d.fused[static_cast<size_t>(s)]);
    }
    betaold = beta;
    if (diverged_on_nan(ksp, dpi, "inner product")) {
      usable = false;
      break;
    }
    if (!(dpi > 0.0)) {  // negative curvature pᵀHp ≤ 0: H is not SPD (on C⊥)
      if (ksp->errorifnotconverged) throw NumericalError("KSP rcg: indefinite or negative definite operator");
      BILEARN_CHECK(
          PetscInfo(ksp, "diverging due to indefinite or negative definite matrix: p'Hp = %g\n", (double)dpi));
      ksp->reason = KSP_DIVERGED_INDEFINITE_MAT;
      usable = false;
      break;
    }
    const PetscReal alpha = beta / dpi;
    BILEARN_CHECK(VecAXPY(x, alpha, p));
    if (fused) {
      // r −= a (I − CCᵀ) q in one pass over r (the projected w is never formed), with rᵀr
      negh[0] = -alpha;
      for (PetscInt j = 0; j < s; ++j) negh[static_cast<size_t>(j + 1)] = alpha * hp[j];
      if (nz == 0)
        rr = d.kernels.maxpy_norm(r, s + 1, negh.data(), rlist_q.data());
      else
        d.kernels.maxpy(r, s + 1, negh.data(), rlist_q.data());
    } else {
      BILEARN_CHECK(VecAXPY(r, -alpha, w));
    }
    for (PetscInt j = 0; j < s; ++j) {
      d.zacc[static_cast<size_t>(j)] += alpha * hp[j];
      hv[static_cast<size_t>(j)] = sign * (hp[j] - bcoef * hpold[static_cast<size_t>(j)]) / rho;
      hpold[static_cast<size_t>(j)] = hp[j];
    }
    const PetscReal tdiag = 1.0 / alpha + (i > 0 ? bold / aold : 0.0);
    residual_norm(fused && nz == 0);
    if (diverged_on_nan(ksp, dp, "norm")) {
      usable = false;
      break;
    }
    report_residual(ksp, i + 1, dp);
    nsc_check();
    if (ksp->reason) {
      const PetscReal bnext = (dp * dp) / betaold;
      d.updater.set_coefficients(tdiag, std::sqrt(bnext) / alpha, hv.data());
      if (dp > 0) {
        next = r;
        next_scale = -sign / dp;
      }
      break;
    }
    if (!fused) {
      PetscScalar bs = 0;
      BILEARN_CHECK(VecDot(r, r, &bs));
      beta = PetscRealPart(bs);
    } else {
      beta = rr;
    }
    const PetscReal bnext = beta / betaold;
    d.updater.set_coefficients(tdiag, std::sqrt(bnext) / alpha, hv.data());
    aold = alpha;
    bold = bnext;
    sign = -sign;
    ++i;
  } while (i < ksp->max_it);
  if (i >= ksp->max_it) {
    ksp->reason = KSP_DIVERGED_ITS;
    const PetscReal rn = std::sqrt(beta);
    if (rn > 0) {
      next = r;
      next_scale = sign / rn;
    }
  }
  return end_solve(ksp, d, a, scratch, usable, next, next_scale);
}

}  // namespace
}  // namespace bilearn::krylov

PetscErrorCode KSPCreate_RCG(KSP ksp) {
  return bilearn::guarded(PetscObjectComm((PetscObject)ksp), __func__,
                          [&] { bilearn::krylov::create_recycle_ksp(ksp, KSPRCG, bilearn::krylov::run); });
}
