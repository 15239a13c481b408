#include "bilearn/outer/line_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bilearn/core/log.hpp"

namespace bilearn {

PetscReal first_trial_step(PetscReal step, PetscReal max_norm, const std::vector<PetscReal>& d) {
  const PetscReal dn = norm2(d);
  if (max_norm <= 0 || !(dn > 0) || !std::isfinite(dn)) return step;
  return std::min(step, max_norm / dn);
}

namespace {

// One backtracking search with every trial evaluated at `tolerance` (0: the policy's at θ_k).
LineSearchResult search(Oracle& oracle, const std::vector<PetscReal>& d, PetscReal alpha0, PetscReal c, PetscReal rho,
                        PetscInt max_backtracks, PetscReal tolerance) {
  const Point p = oracle.current();
  const std::vector<PetscReal>& g = p.eval.gradient;
  const Accuracy acc = oracle.accuracy(p.samples, tolerance);
  LineSearchResult r;
  PetscReal alpha = alpha0;
  PetscReal last_loss = p.eval.loss;
  std::vector<PetscReal> trial(p.theta.size());
  for (;;) {
    for (size_t i = 0; i < trial.size(); ++i) trial[i] = p.theta[i] + alpha * d[i];
    oracle.project(trial);
    // Armijo: L(θ(α)) ≤ L(θ) + c gᵀ(θ(α) − θ); the step must move downhill (gᵀ(θ(α) − θ) < 0).
    PetscReal slope = 0;
    for (size_t i = 0; i < trial.size(); ++i) slope += g[i] * (trial[i] - p.theta[i]);
    const double t0 = MPI_Wtime();
    bool ok = false;
    if (slope < 0) {
      const Evaluation e = oracle.evaluate(trial, false, acc);
      last_loss = e.loss;
      ok = std::isfinite(e.loss) && e.loss <= p.eval.loss + c * slope;
      if (ok) {
        r.accepted = true;
        r.alpha = alpha;
        r.point = oracle.evaluate_point(trial, p.samples, acc.tolerance);
        r.point.eval.loss = e.loss;  // the value the test accepted
        if (e.error_bound >= 0) r.point.eval.error_bound = e.error_bound;
        return r;
      }
    }
    oracle.counters().rejected_seconds += MPI_Wtime() - t0;
    r.alpha = alpha;
    if (r.backtracks >= max_backtracks) break;
    ++r.backtracks;
    alpha *= rho;
  }
  ++r.backtracks;  // the last rejected trial
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "Armijo line search failed: no sufficient decrease after %d backtracks (last step %.3g, L = %.10g, "
                "last trial L = %.10g)",
                static_cast<int>(max_backtracks), static_cast<double>(alpha), static_cast<double>(p.eval.loss),
                static_cast<double>(last_loss));
  r.message = buf;
  return r;
}

}  // namespace

LineSearchResult armijo_backtracking(Oracle& oracle, const std::vector<PetscReal>& d, PetscReal alpha0, PetscReal c,
                                     PetscReal rho, PetscInt max_backtracks) {
  log::ScopedStage stage(log::stages().line_search);
  LineSearchResult r = search(oracle, d, alpha0, c, rho, max_backtracks, 0);
  // With adaptive tolerances L is known to about the tolerance (x̂ to ‖∇Φ‖ ≤ s·τ): near a
  // stationary point the decrease Armijo asks for can be smaller than that, and every trial
  // fails on noise (blur, huber_tv, L-BFGS at N = 64: ‖∇L‖ ≈ 0.02, L off by 1e-3 relative).
  // Once per line search: θ_k re-evaluated at τ/100 becomes the current point, and the search
  // runs again along d at that tolerance.
  const OuterOptions& o = oracle.options();
  const PetscReal tolerance = oracle.accuracy(oracle.current().samples).tolerance;
  if (r.accepted || !o.adaptive_tol || !(tolerance > o.tol_min)) return r;
  const PetscReal tighter = std::max(0.01 * tolerance, o.tol_min);
  const Point p = oracle.current();
  oracle.set_current(oracle.evaluate_point(p.theta, p.samples, tighter));
  LineSearchResult again = search(oracle, d, alpha0, c, rho, max_backtracks, tighter);
  again.backtracks += r.backtracks;
  return again;
}

}  // namespace bilearn
