// One-step differentiation (Bolte, Pauwels, Vaiter 2023; docs/algorithms.md §3): after the normal
// reconstruction, differentiate only the last iteration x̂ = F(x_prev, θ) of the lower solver,
// with x_prev ≈ x̂ at convergence. Which last step, by -hyper_onestep_map:
//   newton    (the default for Newton and quasi-Newton -lower_tao_type: nls, ntr, ntl, bnls,
//             bntr, bntl, tron, lmvm, blmvm, bqn*): F = x − H⁻¹∇_xΦ, whose θ-derivative at
//             the minimiser is −H⁻¹Jᵀ, i.e. the implicit formula ∇L = −(1/S) Σ_s J_s w_s with
//             H w = x̂ − x†, computed as one Newton-type step: a single loose Krylov solve from
//             w = 0 (relative tolerance -hyper_onestep_rtol, default 1e-2; the KSP is configured
//             as the implicit one, hypergradient_ksp.hpp: CG + PC circulant unless -hyper_ksp_*
//             say otherwise). A quasi-Newton step −B⁻¹∇Φ is approximated by the Newton step.
//   gradient  (the default for the first-order -lower_tao_type bncg and cg): F = x − τ∇_xΦ, whose
//             derivative is the Jacobian-free ∇L = −(1/S) Σ_s τ J_s (x̂_s − x†_s), one J product
//             per sample, τ as in gradient_map.hpp (-hyper_step_fraction / Lip or
//             -hyper_gradient_step). Biased by O(ρ), ρ = 1 − τλmin the map's contraction.
//   auto      (default) picks one of the two from -lower_tao_type (TAO's default: nls → newton).
// The loss reported is the loss at x̂.
#include <cmath>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/hypergrad/gradient_map.hpp"
#include "bilearn/hypergrad/hypergradient_ksp.hpp"

namespace bilearn {
namespace {

// -lower_tao_type as the lower solver reads it (TAO's prefix lower_), "nls" when unset.
std::string lower_tao_type() {
  char type[64] = "nls";
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsGetString(nullptr, "lower_", "-tao_type", type, sizeof(type), &set));
  return type;
}

class OneStepEstimator : public HypergradientEstimator {
 public:
  std::string name() const override { return "onestep"; }

  void set_from_options(MPI_Comm comm, const std::string& prefix) override {
    {
      OptionsBlock block(comm, prefix, "One-step differentiation (-hyper_method onestep)");
      std::string map =
          block.choice("-onestep_map", "last lower-level step differentiated (auto: from -lower_tao_type)",
                       {"auto", "newton", "gradient"}, "auto");
      if (map == "auto") {
        const std::string tao = lower_tao_type();
        map = (tao == "bncg" || tao == "cg") ? "gradient" : "newton";
      }
      newton_ = map == "newton";
      rtol_ =
          block.real("-onestep_rtol", "relative tolerance of the one loose Krylov solve (newton map)", rtol_, 0.0, 1.0);
    }
    if (!newton_) map_.set_from_options(comm, prefix);
  }

  void view(PetscViewer viewer) const override {
    HypergradientEstimator::view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
    if (newton_) {
      BILEARN_CHECK(PetscViewerASCIIPrintf(
          viewer, "Newton step: one Krylov solve of H w = x-hat - x-dagger from 0 to rtol %g\n", (double)rtol_));
    } else {
      BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "gradient step: -tau J (x-hat - x-dagger)\n"));
      map_.view(viewer);
    }
    BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
  }

  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation result;
    result.loss = problem.reconstruct(theta, result.stats);
    if (!need_gradient || !std::isfinite(result.loss)) return result;  // the loss is the same on every rank
    log::ScopedStage stage(log::stages().hypergradient);
    log::ScopedEvent event(log::events().hypergradient);
    LowerObjective& objective = problem.objective();
    const PetscInt p = problem.num_params();
    result.gradient.assign(static_cast<size_t>(p), 0.0);
    std::vector<PetscReal> jw(static_cast<size_t>(p));
    if (!rhs_) {
      rhs_ = problem.grid().create_vec();
      w_ = problem.grid().create_vec();
    }
    const PetscInt hessian_before = objective.hessian_products();  // with the Lipschitz estimate
    PetscReal scale = 1.0;                                         // J w is scaled by this (τ for the gradient map)
    if (!newton_) {
      scale = map_.prepare(objective, theta);
      result.stats.gradient_step = scale;
      result.stats.lipschitz = map_.lipschitz();
    }
    std::string failure;
    for (auto& s : problem.samples()) {
      if (!problem.is_active(s)) continue;
      objective.set_point(s.x_hat, theta);
      BILEARN_CHECK(VecWAXPY(rhs_, -1.0, s.truth, s.x_hat));  // x̂ − x†
      Vec w = rhs_;
      if (newton_) {
        failure = newton_solve(problem, s, result.stats);
        if (!failure.empty()) break;  // the KSP is collective over the group: all its ranks break
        w = w_;
      }
      const double t0 = MPI_Wtime();
      {
        log::ScopedEvent mixed_event(log::events().mixed_apply);
        objective.mixed_mult(w, jw.data());
      }
      result.stats.mixed_seconds += MPI_Wtime() - t0;
      ++result.stats.mixed_products;
      for (PetscInt i = 0; i < p; ++i) result.gradient[static_cast<size_t>(i)] -= scale * jw[static_cast<size_t>(i)];
    }
    result.stats.hessian_products += objective.hessian_products() - hessian_before;
    event.end();
    problem.raise_if_any_failed(!failure.empty(), failure);
    problem.sum_over_groups(result.gradient);
    for (auto& g : result.gradient) g /= static_cast<PetscReal>(problem.active_total());
    return result;
  }

 private:
  // w_ from H w = rhs_ (one loose solve from 0). Empty on success, else why it failed.
  std::string newton_solve(SampleProblem& problem, const SampleState& s, EvaluationStats& stats) {
    LowerObjective& objective = problem.objective();
    if (!ksp_) {
      create_hypergradient_ksp(problem.grid().comm(), objective, ksp_.out());
      BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp_, PETSC_FALSE));
      BILEARN_CHECK(KSPSetTolerances(ksp_, rtol_, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
    }
    BILEARN_CHECK(KSPSetOperators(ksp_, objective.hessian(), objective.hessian()));
    const double t0 = MPI_Wtime();
    PetscInt its;
    {
      log::ScopedEvent solve_event(log::events().krylov_solve);
      its = solve_hypergradient_system(ksp_, rhs_, w_).iterations;
    }
    stats.krylov_seconds += MPI_Wtime() - t0;
    KSPConvergedReason reason;
    BILEARN_CHECK(KSPGetConvergedReason(ksp_, &reason));
    stats.krylov_iterations += its;
    if (reason > 0) return {};
    std::ostringstream msg;
    msg << "one-step hypergradient Krylov solve of sample " << s.index << " failed: " << KSPConvergedReasons[reason]
        << " after " << its << " iterations";
    return msg.str();
  }

  bool newton_ = true;     // -hyper_onestep_map
  PetscReal rtol_ = 1e-2;  // -hyper_onestep_rtol
  GradientMap map_;        // the gradient map's step (gradient)
  OwnedKSP ksp_;           // one loose solve per sample (newton)
  OwnedVec rhs_, w_;
};

}  // namespace

std::unique_ptr<HypergradientEstimator> create_onestep_estimator() {
  return std::make_unique<OneStepEstimator>();
}

}  // namespace bilearn
