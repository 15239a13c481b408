// Finite-difference hypergradient (for checking): ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / 2h.
// Every perturbed reconstruction starts from the reconstruction at θ, and the per-sample
// warm starts are restored afterwards, so checking does not disturb a training run.
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"

namespace bilearn {
namespace {

class FiniteDifferenceEstimator : public HypergradientEstimator {
 public:
  explicit FiniteDifferenceEstimator(PetscReal step) : step_(step) {}
  std::string name() const override { return "fd"; }

  void set_from_options(MPI_Comm comm, const std::string& prefix) override {
    OptionsBlock block(comm, prefix, "Finite-difference hypergradient");
    step_ = block.real("-fd_step", "step in theta for -hyper_method fd", step_, 0.0, 1.0);
  }
  void set_up() override { require(step_ > 0, "-hyper_fd_step must be positive"); }
  void view(PetscViewer viewer) const override {
    HypergradientEstimator::view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "central differences, step %g\n", (double)step_));
    BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
  }

  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation result;
    result.loss = problem.reconstruct(theta, result.stats);
    if (!need_gradient) return result;
    auto& samples = problem.samples();
    std::vector<OwnedVec> base(samples.size());
    for (size_t k = 0; k < samples.size(); ++k) {
      BILEARN_CHECK(VecDuplicate(samples[k].x_hat, base[k].out()));
      BILEARN_CHECK(VecCopy(samples[k].x_hat, base[k]));
    }
    auto restore = [&] {
      for (size_t k = 0; k < samples.size(); ++k) {
        BILEARN_CHECK(VecCopy(base[k], samples[k].x_hat));
        samples[k].solved_theta = theta;
      }
    };
    result.gradient.assign(theta.size(), 0.0);
    for (size_t i = 0; i < theta.size(); ++i) {
      std::vector<PetscReal> shifted = theta;
      shifted[i] = theta[i] + step_;
      const PetscReal plus = problem.reconstruct(shifted, result.stats);
      restore();
      shifted[i] = theta[i] - step_;
      const PetscReal minus = problem.reconstruct(shifted, result.stats);
      restore();
      result.gradient[i] = (plus - minus) / (2 * step_);
    }
    return result;
  }

 private:
  PetscReal step_;
};

}  // namespace

std::unique_ptr<HypergradientEstimator> create_fd_estimator(PetscReal step) {
  require(step > 0, "-hyper_fd_step must be positive");
  return std::make_unique<FiniteDifferenceEstimator>(step);
}

}  // namespace bilearn
