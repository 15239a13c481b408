#include "bilearn/hypergrad/observed_estimator.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn {

UpperEvaluation ObservedEstimator::evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta,
                                            bool need_gradient) {
  UpperEvaluation result = inner_->evaluate(problem, theta, need_gradient);
  if (!observer_ || result.gradient.empty()) return result;
  // x̂_s is unchanged by the hypergradient solve: the system is H(x̂_s, θ) w = x̂_s − x†_s.
  if (!rhs_) rhs_ = problem.grid().create_vec();
  for (const SampleState& s : problem.samples()) {
    if (!problem.is_active(s)) continue;
    BILEARN_CHECK(VecWAXPY(rhs_, -1.0, s.truth, s.x_hat));
    observer_(s, theta, rhs_);
  }
  return result;
}

}  // namespace bilearn
