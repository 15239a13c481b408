// Gradient descent θ⁺ = P(θ − α∇L) with one of three step controls (docs/algorithms.md §5):
//   armijo   backtracking α ← ρα until L(θ⁺) ≤ L(θ) − c gᵀ(θ − θ⁺) (= c α‖g‖² unbounded),
//            next trial α = min(γα, α_max) after acceptance; never clamped to a fixed 1/L, so
//            under (L0,L1)-smoothness it finds α ≈ 1/(L0 + L1‖∇L‖) by itself (Bensaid 2024)
//   inexact  MAID (Salehi, Mukherjee, Roberts, Ehrhardt 2024): L and ∇L known to accuracy ε;
//            accept when  L̃(θ⁺) + b(θ⁺) − (L̃(θ) − b(θ)) ≤ −c gᵀ(θ − θ⁺)  with the error bound
//            b = Evaluation::error_bound when known, else ε‖∇L̃‖; on failure ε ← max(ν_ε ε, ε_min)
//            and θ is re-evaluated at the new ε (the direction changes), and α ← ρα unless the
//            measured values alone passed (L̃(θ⁺) − L̃(θ) ≤ −c gᵀ(θ − θ⁺): the step was fine, only
//            the accuracy could not certify it); after success ε ← min(ν ε, ε₀) and
//            α ← min(γα, α_max). ε goes to the problem as both lower-level and Krylov tolerance.
//   none     fixed step α = -outer_step.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bilearn/core/log.hpp"
#include "bilearn/outer/line_search.hpp"
#include "bilearn/outer/optimizer.hpp"
#include "bilearn/outer/state_codec.hpp"

namespace bilearn {
namespace {

class GradientDescent : public Optimizer {
 public:
  explicit GradientDescent(const OuterOptions& o) : o_(o), alpha_(o.step), eps_(o.inexact_eps0) {}

  std::string name() const override { return "gd"; }
  PetscReal initial_tolerance() const override { return o_.ls == "inexact" ? eps_ : 0; }

  StepOutcome step(Oracle& oracle, PetscInt iteration) override {
    const Point& p = oracle.current();
    std::vector<PetscReal> d(p.eval.gradient);
    for (auto& v : d) v = -v;
    // α of later steps grows from the accepted one (and is restored on resume)
    if (iteration == 1 && o_.ls != "none") alpha_ = first_trial_step(alpha_, o_.first_step_norm, d);
    if (o_.ls == "inexact") return inexact_step(oracle);
    StepOutcome out;
    if (o_.ls == "none") {
      std::vector<PetscReal> next(p.theta);
      for (size_t i = 0; i < next.size(); ++i) next[i] += o_.step * d[i];
      oracle.project(next);
      Point np = oracle.evaluate_point(next, {});
      if (!std::isfinite(np.eval.loss) || !all_finite(np.eval.gradient)) {
        out.message = "fixed-step gradient descent reached a non-finite upper loss or gradient";
        return out;
      }
      oracle.set_current(std::move(np));
      out.accepted = true;
      out.step = o_.step;
      return out;
    }
    LineSearchResult r = armijo_backtracking(oracle, d, alpha_, o_.ls_c, o_.ls_rho, o_.ls_max_backtracks);
    out.backtracks = r.backtracks;
    out.step = r.alpha;
    if (!r.accepted) {
      out.message = r.message;
      return out;
    }
    alpha_ = std::min(o_.ls_growth * r.alpha, o_.ls_max_step);
    oracle.set_current(std::move(r.point));
    out.accepted = true;
    return out;
  }

  nlohmann::json save() const override { return {{"alpha", hex_real(alpha_)}, {"epsilon", hex_real(eps_)}}; }
  void load(const nlohmann::json& s) override {
    alpha_ = parse_hex_real(s.at("alpha").get<std::string>(), "gd state alpha");
    eps_ = parse_hex_real(s.at("epsilon").get<std::string>(), "gd state epsilon");
  }
  nlohmann::json summary() const override {
    nlohmann::json j = {{"next_step", alpha_}};
    if (o_.ls == "inexact") j["inexact_epsilon"] = eps_;
    return j;
  }

 private:
  // Error bound of an evaluation made at accuracy eps.
  static PetscReal bound(const Evaluation& e, PetscReal eps) {
    return e.error_bound >= 0 ? e.error_bound : eps * norm2(e.gradient);
  }

  StepOutcome inexact_step(Oracle& oracle) {
    log::ScopedStage stage(log::stages().line_search);
    StepOutcome out;
    PetscReal alpha = alpha_;
    PetscReal last_lhs = 0;
    std::vector<PetscReal> trial;
    for (;;) {
      const Point& p = oracle.current();
      const std::vector<PetscReal>& g = p.eval.gradient;
      trial = p.theta;
      for (size_t i = 0; i < trial.size(); ++i) trial[i] -= alpha * g[i];
      oracle.project(trial);
      PetscReal move = 0;  // gᵀ(θ − θ⁺) ≥ 0
      for (size_t i = 0; i < trial.size(); ++i) move += g[i] * (p.theta[i] - trial[i]);
      const double t0 = MPI_Wtime();
      bool measured_ok = false;  // the values alone pass Armijo; only the error bounds failed
      if (move > 0) {
        Point np = oracle.evaluate_point(trial, {}, eps_);
        const PetscReal diff = np.eval.loss - p.eval.loss;
        const PetscReal lhs = diff + bound(np.eval, eps_) + bound(p.eval, p.tolerance);
        last_lhs = lhs;
        const bool finite = std::isfinite(lhs) && all_finite(np.eval.gradient);
        if (finite && lhs <= -o_.inexact_c * move) {
          oracle.set_current(std::move(np));
          out.accepted = true;
          out.step = alpha;
          alpha_ = std::min(o_.ls_growth * alpha, o_.ls_max_step);
          eps_ = std::min(o_.inexact_nu * eps_, o_.inexact_eps0);
          return out;
        }
        measured_ok = finite && diff <= -o_.inexact_c * move;
      }
      oracle.counters().rejected_seconds += MPI_Wtime() - t0;
      ++out.backtracks;
      out.step = alpha;
      if (out.backtracks > o_.ls_max_backtracks) break;
      // Shrink α unless the measured values already showed sufficient decrease (then only the
      // accuracy was too poor to certify it: shrinking α with ε would keep their ratio and
      // never succeed when ρ = ν_ε).
      if (!measured_ok) alpha *= o_.inexact_rho;
      const PetscReal tighter = std::max(o_.inexact_tighten * eps_, o_.inexact_eps_min);
      if (tighter < eps_) {
        eps_ = tighter;
        oracle.set_current(oracle.evaluate_point(p.theta, {}, eps_));  // direction at the new accuracy
      } else if (measured_ok) {
        alpha *= o_.inexact_rho;  // ε cannot tighten further
      }
    }
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "inexact Armijo line search failed after %d backtracks (last step %.3g, accuracy %.3g, "
                  "decrease test %.3g)",
                  static_cast<int>(o_.ls_max_backtracks), static_cast<double>(out.step), static_cast<double>(eps_),
                  static_cast<double>(last_lhs));
    out.message = buf;
    return out;
  }

  const OuterOptions o_;
  PetscReal alpha_;
  PetscReal eps_;
};

}  // namespace

std::unique_ptr<Optimizer> create_gradient_descent(const OuterOptions& opts) {
  return std::make_unique<GradientDescent>(opts);
}

}  // namespace bilearn
