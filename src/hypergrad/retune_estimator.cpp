// Restarted unrolling, ReTune (Davy, Briceño-Arias, Pustelnik 2025; docs/algorithms.md §3): after the
// normal reconstruction (TAO, warm started) each sample runs K = -hyper_retune_k (default 10)
// steps of the gradient map x_{k+1} = x_k − τ∇_xΦ(x_k, θ) (gradient_map.hpp) restarted from its
// equilibrium estimate x_0 = x̂, and differentiates those K steps only in reverse mode (x̂ held
// constant): no Hessian solve, K mixed and K − 1 Hessian products per sample. At a converged
// x̂ this truncates the Neumann series H⁻¹ = τ Σ_j (I − τH)^j after K terms, an error of order
// ρ^K with ρ = 1 − τλmin(H) (τλmax ≤ 1 for -hyper_step_fraction ≤ 1). K = 1 is −τJ(x̂ − x†).
// The loss reported is the loss at x̂, L = (1/S) Σ_s ½‖x̂_s − x†_s‖² (the K steps only serve the
// gradient; x̂ stays the reconstruction and the warm start).
#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/hypergrad/gradient_map.hpp"

namespace bilearn {
namespace {

class RetuneEstimator : public HypergradientEstimator {
 public:
  std::string name() const override { return "retune"; }

  void set_from_options(MPI_Comm comm, const std::string& prefix) override {
    {
      OptionsBlock block(comm, prefix, "Restarted unrolling (-hyper_method retune)");
      k_ = block.integer("-retune_k", "gradient steps from x-hat differentiated in reverse mode", k_, 1,
                         PETSC_MAX_INT - 1);
    }
    map_.set_from_options(comm, prefix);
  }

  void view(PetscViewer viewer) const override {
    HypergradientEstimator::view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
    BILEARN_CHECK(PetscViewerASCIIPrintf(
        viewer, "%" PetscInt_FMT " gradient steps restarted from x-hat, reverse mode through them\n", k_));
    map_.view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
  }

  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation result;
    result.loss = problem.reconstruct(theta, result.stats);
    if (!need_gradient || !std::isfinite(result.loss)) return result;  // the loss is the same on every rank
    log::ScopedStage stage(log::stages().hypergradient);
    log::ScopedEvent event(log::events().hypergradient);
    LowerObjective& objective = problem.objective();
    const PetscInt hessian_before = objective.hessian_products(), mixed_before = objective.mixed_products();
    map_.prepare(objective, theta);
    result.gradient.assign(static_cast<size_t>(problem.num_params()), 0.0);
    const double t0 = MPI_Wtime();
    for (auto& s : problem.samples()) {
      if (!problem.is_active(s)) continue;
      objective.set_data(s.data);
      result.stats.gradient_steps += map_.forward(objective, s.x_hat, theta, k_, 0);
      map_.reverse(objective, s.truth, theta, result.gradient);
    }
    result.stats.mixed_seconds += MPI_Wtime() - t0;
    result.stats.hessian_products += objective.hessian_products() - hessian_before;
    result.stats.mixed_products += objective.mixed_products() - mixed_before;
    result.stats.stored_vectors = map_.stored_vectors();
    result.stats.stored_mb = map_.stored_megabytes();
    result.stats.gradient_step = map_.step();
    result.stats.lipschitz = map_.lipschitz();
    problem.sum_over_groups(result.gradient);
    for (auto& g : result.gradient) g /= static_cast<PetscReal>(problem.active_total());
    return result;
  }

 private:
  PetscInt k_ = 10;  // -hyper_retune_k
  GradientMap map_;
};

}  // namespace

std::unique_ptr<HypergradientEstimator> create_retune_estimator() {
  return std::make_unique<RetuneEstimator>();
}

}  // namespace bilearn
