// Unrolled hypergradient (docs/algorithms.md §3, the reference for the cheaper estimators on small
// problems): the lower level is replaced by the gradient map x_{k+1} = x_k − τ∇_xΦ(x_k, θ)
// (gradient_map.hpp) run by this estimator itself from x_0 = 0, whatever -lower_tao_type is,
// until ‖∇_xΦ(x_k)‖ ≤ -hyper_unrolled_rtol·‖Aᵀy‖ (default 1e-6; 0: always
// -hyper_unrolled_max_it steps) or -hyper_unrolled_max_it steps (default 1000). The loss is
// that of the unrolled map, L = (1/S) Σ_s ½‖x_K,s − x†_s‖² (x_K becomes the sample's
// reconstruction), and the gradient is its exact derivative by reverse mode through all K
// steps, τ held fixed. Memory: K + 1 image vectors (one trajectory, reused sample after sample),
// reported as stored_iterates. On ill-conditioned problems (tomography) the gradient map is
// slow and max_it usually decides K: the result is then the derivative of that K-step map,
// not of the minimiser.
#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/hypergrad/gradient_map.hpp"

namespace bilearn {
namespace {

class UnrolledEstimator : public HypergradientEstimator {
 public:
  std::string name() const override { return "unrolled"; }

  void set_from_options(MPI_Comm comm, const std::string& prefix) override {
    {
      OptionsBlock block(comm, prefix, "Unrolled hypergradient (-hyper_method unrolled)");
      max_it_ = block.integer("-unrolled_max_it", "most gradient steps from x = 0 (all stored)", max_it_, 1,
                              PETSC_MAX_INT - 1);
      rtol_ =
          block.real("-unrolled_rtol", "stop at |grad Phi| <= rtol |A^T y| (0: always max_it steps)", rtol_, 0.0, 1.0);
    }
    map_.set_from_options(comm, prefix);
  }

  void view(PetscViewer viewer) const override {
    HypergradientEstimator::view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer,
                                         "gradient map from x = 0 until |grad Phi| <= %g |A^T y| or %" PetscInt_FMT
                                         " steps, reverse mode through all of them\n",
                                         (double)rtol_, max_it_));
    map_.view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
  }

  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation result;
    LowerObjective& objective = problem.objective();
    objective.regulariser().check_theta(theta);
    const PetscInt hessian_before = objective.hessian_products(), mixed_before = objective.mixed_products();
    map_.prepare(objective, theta);
    if (!zero_) {
      zero_ = problem.grid().create_vec();
      work_ = problem.grid().create_vec();
      BILEARN_CHECK(VecSet(zero_, 0.0));
    }
    if (need_gradient) result.gradient.assign(static_cast<size_t>(problem.num_params()), 0.0);
    PetscReal loss_sum = 0;
    for (auto& s : problem.samples()) {
      if (!problem.is_active(s)) continue;
      objective.set_data(s.data);
      double t0 = MPI_Wtime();
      const PetscInt k = map_.forward(objective, zero_, theta, max_it_, rtol_ * objective.data_gradient_norm());
      result.stats.lower_seconds += MPI_Wtime() - t0;
      result.stats.lower_iterations += k;
      result.stats.gradient_steps += k;
      BILEARN_CHECK(VecCopy(map_.last(), s.x_hat));
      record_sample_quality(s, s.x_hat, work_);
      loss_sum += s.loss;
      if (!need_gradient) continue;
      log::ScopedEvent event(log::events().hypergradient);
      t0 = MPI_Wtime();
      map_.reverse(objective, s.truth, theta, result.gradient);
      result.stats.mixed_seconds += MPI_Wtime() - t0;
    }
    result.stats.hessian_products += objective.hessian_products() - hessian_before;
    result.stats.mixed_products += objective.mixed_products() - mixed_before;
    result.stats.stored_vectors = map_.stored_vectors();
    result.stats.stored_mb = map_.stored_megabytes();
    result.stats.gradient_step = map_.step();
    result.stats.lipschitz = map_.lipschitz();
    const PetscReal total = static_cast<PetscReal>(problem.active_total());
    std::vector<PetscReal> loss{loss_sum};
    problem.sum_over_groups(loss);
    result.loss = loss[0] / total;
    if (need_gradient) {
      problem.sum_over_groups(result.gradient);
      for (auto& g : result.gradient) g /= total;
    }
    return result;
  }

 private:
  PetscInt max_it_ = 1000;  // -hyper_unrolled_max_it
  PetscReal rtol_ = 1e-6;   // -hyper_unrolled_rtol
  GradientMap map_;
  OwnedVec zero_, work_;
};

}  // namespace

std::unique_ptr<HypergradientEstimator> create_unrolled_estimator() {
  return std::make_unique<UnrolledEstimator>();
}

}  // namespace bilearn
