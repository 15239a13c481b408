// -lower_batch (docs/algorithms.md §4.7) through BilevelProblem and the implicit estimator: the
// group's samples solved as one stacked problem (Newton KSP lockstepcg) and their hypergradient
// systems as one lockstepcg solve give the loss and hypergradient of the sample-by-sample solves,
// for convex and non-convex experts, with each sample's adjoint solving its own H_s w_s = x̂_s − x†_s
// (H_s itself: TAO nls's perturbation H + pert·I of a non-convex Newton step must not survive the
// lower solve into the hypergradient solve; it did on the MatShell, in both ways of solving).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/driver/bilevel_problem.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/reg/regulariser.hpp"
#include "bilevel_fixture.hpp"

using namespace bilearn;
using namespace bilearn::testing;

namespace {

struct Outcome {
  UpperEvaluation evaluation;
  bool batched = false;
  std::vector<double> adjoint_residual;  // ‖H_s w_s − (x̂_s − x†_s)‖ / ‖x̂_s − x†_s‖ with the per-sample H_s
};

Outcome evaluate(const char* lower_batch) {
  ScopedOptions o(std::vector<std::pair<std::string, std::string>>{{"-lower_batch", lower_batch}});
  Fixture f(PETSC_COMM_WORLD, 16, 3, 1e-3);
  std::vector<PetscReal> theta = f.reg->initial_theta();
  for (auto& t : theta) t -= 0.5;  // lighter weights: one minimiser near the start for the Lorentzian
  Outcome out;
  out.evaluation = create_implicit_estimator()->evaluate(*f.problem, theta, true);
  out.batched = f.problem->solved_as_batch();
  LowerObjective& objective = f.problem->objective();
  OwnedVec rhs = f.grid->create_vec(), r = f.grid->create_vec();
  for (auto& s : f.problem->samples()) {
    objective.set_point(s.x_hat, theta);
    BILEARN_CHECK(VecWAXPY(rhs, -1.0, s.truth, s.x_hat));
    objective.hessian_mult(s.adjoint, r);  // H itself, not the MatShell a solver may have shifted
    BILEARN_CHECK(VecAXPY(r, -1.0, rhs));
    PetscReal rn = 0, bn = 0;
    BILEARN_CHECK(VecNorm(r, NORM_2, &rn));
    BILEARN_CHECK(VecNorm(rhs, NORM_2, &bn));
    out.adjoint_residual.push_back(rn / bn);
  }
  return out;
}

// 45 angles and θ 0.5 below the initial one: enough data for the Lorentzian lower level to have one
// minimiser near the start, so that both ways of solving reach the same x̂ (with 24 angles at the
// initial θ one sample's stacked solve ends in another local minimiser). Negative curvature still
// makes nls perturb its Newton systems there.
void expect_batch_equals_samples(const std::string& expert) {
  ScopedOptions o({{"-problem", "tomo"},
                   {"-reg_type", "foe"},
                   {"-reg_foe_filters", "dct3"},
                   {"-reg_foe_expert", expert},
                   {"-tomo_angles", "45"},
                   {"-lower_tao_gatol", "1e-11"},
                   {"-lower_gradient_rtol", "0"},
                   {"-lower_tao_max_it", "1000"},
                   {"-hyper_ksp_rtol", "1e-11"}});
  const Outcome batched = evaluate("true");
  const Outcome single = evaluate("false");
  EXPECT_TRUE(batched.batched) << expert;
  EXPECT_FALSE(single.batched) << expert;
  EXPECT_NEAR(batched.evaluation.loss, single.evaluation.loss, 1e-9 * single.evaluation.loss) << expert;
  for (size_t s = 0; s < batched.adjoint_residual.size(); ++s) {
    EXPECT_LT(batched.adjoint_residual[s], 1e-9) << expert << " batched, sample " << s;
    EXPECT_LT(single.adjoint_residual[s], 1e-9) << expert << " one by one, sample " << s;
  }
  EXPECT_LT(relative_difference(batched.evaluation.gradient, single.evaluation.gradient), 1e-7) << expert;
  // Counted per sample: the stacked lower solve's steps come in multiples of B.
  EXPECT_EQ(batched.evaluation.stats.lower_iterations % 3, 0) << expert;
  EXPECT_EQ(batched.evaluation.stats.mixed_products, 3) << expert;
}

}  // namespace

TEST(BatchedHypergradient, ConvexExpertEqualsSampleBySample) {
  expect_batch_equals_samples("l1");
}

TEST(BatchedHypergradient, NonConvexExpertEqualsSampleBySample) {
  expect_batch_equals_samples("lorentzian");
}
