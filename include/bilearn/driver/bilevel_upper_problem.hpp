// The bridge from the outer loop to the physics: the UpperProblem the trainer optimises,
// evaluated by the workspace's hypergradient estimator over its bilevel problem. Requested
// accuracies become the lower-level gradient tolerance and the Krylov relative tolerance;
// mini-batches become the active samples; failed lower-level solves at trial points become
// an infinite loss (the line search backtracks). Checkpoints hold every sample's warm
// starts x̂_s and w_s (PETSc binary, natural order, exact bits) and the recycle space its
// hypergradient KSP carries to the next solve (space_%05d.bin, see recycle_space_file.hpp).
#pragma once
#include "bilearn/driver/workspace.hpp"
#include "bilearn/outer/upper_problem.hpp"

namespace bilearn {

class BilevelUpperProblem : public UpperProblem {
 public:
  explicit BilevelUpperProblem(Workspace& ws);
  PetscInt dim() const override;
  PetscInt num_samples() const override;
  Evaluation evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc) override;
  void save_state(const std::string& dir) override;
  void load_state(const std::string& dir) override;

  // L(θ) over all samples with the configured tolerances (-lower_tao_gatol), no gradient: the
  // initial and the learned reconstructions around a training run. A failed lower-level solve
  // gives a non-finite loss. Not counted in totals(). Collective.
  PetscReal reconstruct(const std::vector<PetscReal>& theta);

  // Time split accumulated over all evaluations (max over ranks when reduced by the caller).
  const EvaluationStats& totals() const noexcept { return totals_; }

 private:
  // Seeds every sample's hypergradient KSP with the recycle space saved in dir (if any).
  void load_spaces(const std::string& dir);

  Workspace& ws_;
  EvaluationStats totals_;
};

}  // namespace bilearn
