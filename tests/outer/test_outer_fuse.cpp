// FUSE: Adam switches to L-BFGS when each criterion holds (one test per criterion, checked
// against the history), and falls back to Adam after repeated line-search failures.
#include <gtest/gtest.h>

#include <cmath>

#include "analytic_problems.hpp"
#include "bilearn/outer/trainer.hpp"

using namespace bilearn;
using namespace outer_test;

namespace {

OuterOptions fuse_options() {
  OuterOptions o = quiet_options("fuse");
  o.adam_lr = 0.1;
  o.max_it = 40;
  o.gtol = 1e-9;
  o.ls_c = 1e-4;
  o.fuse_switch_it = 1000;
  o.fuse_gtol = 0;
  o.fuse_ftol = 0;
  o.fuse_window = 3;
  o.checkpoint_every = 0;
  return o;
}

std::vector<std::string> phases(const std::string& history) {
  std::vector<std::string> p;
  const auto rows = read_csv(history);
  for (size_t k = 1; k < rows.size(); ++k) p.push_back(rows[k][11]);
  return p;
}

}  // namespace

TEST(OuterFuse, SwitchesOnIterationCriterion) {
  TempDir tmp;
  Quadratic prob(6, 3);
  OuterOptions o = fuse_options();
  o.fuse_switch_it = 4;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, tmp.path());
  EXPECT_EQ(r.optimizer_summary.at("fuse_switch_iteration"), 4);
  EXPECT_EQ(r.optimizer_summary.at("fuse_switch_criterion"), "iteration");
  EXPECT_EQ(r.optimizer_summary.at("fuse_fallback_iteration"), -1);
  const auto ph = phases(tmp.sub("history.csv"));
  ASSERT_GT(ph.size(), 5u);
  for (size_t k = 0; k < ph.size(); ++k) EXPECT_EQ(ph[k], k < 4 ? "adam" : "lbfgs") << "row " << k + 1;
  // L-BFGS finishes the quadratic quickly.
  EXPECT_EQ(r.stop_reason, "gtol") << r.stop_message;
  EXPECT_LT(r.outer_iterations, 25);
}

TEST(OuterFuse, SwitchesOnGradientNormCriterion) {
  TempDir tmp;
  Quadratic prob(6, 3);
  OuterOptions o = fuse_options();
  o.fuse_gtol = 2.0;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, tmp.path());
  EXPECT_EQ(r.optimizer_summary.at("fuse_switch_criterion"), "gtol");
  const PetscInt k = r.optimizer_summary.at("fuse_switch_iteration").get<PetscInt>();
  const auto rows = read_csv(tmp.sub("history.csv"));
  ASSERT_GT(static_cast<PetscInt>(rows.size()), k);
  EXPECT_GT(k, 2);  // not trivially at the start
  for (PetscInt j = 1; j < k; ++j) EXPECT_GT(std::stod(rows[j][2]), 2.0) << "row " << j;
  EXPECT_LE(std::stod(rows[k][2]), 2.0);
  EXPECT_EQ(rows[k][11], "adam");
  EXPECT_EQ(rows[k + 1][11], "lbfgs");
}

TEST(OuterFuse, SwitchesOnLossPlateauCriterion) {
  TempDir tmp;
  Quadratic prob(6, 3);  // L* > 0: relative changes go to 0 near the minimum
  OuterOptions o = fuse_options();
  o.fuse_ftol = 2e-2;
  o.adam_lr = 0.2;
  o.max_it = 80;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, tmp.path());
  EXPECT_EQ(r.optimizer_summary.at("fuse_switch_criterion"), "plateau");
  const PetscInt k = r.optimizer_summary.at("fuse_switch_iteration").get<PetscInt>();
  EXPECT_GT(k, o.fuse_window);
  // The switch is at the first iteration whose relative change over the window is ≤ ftol.
  const auto rows = read_csv(tmp.sub("history.csv"));
  std::vector<PetscReal> loss = {r.initial_upper_loss};
  for (size_t j = 1; j < rows.size(); ++j) loss.push_back(std::stod(rows[j][1]));
  PetscInt first = -1;
  for (PetscInt j = o.fuse_window; j < static_cast<PetscInt>(loss.size()) && first < 0; ++j)
    if (std::fabs(loss[j] - loss[j - o.fuse_window]) / std::fabs(loss[j - o.fuse_window]) <= o.fuse_ftol) first = j;
  EXPECT_EQ(first, k);
  EXPECT_LT(r.upper_loss, r.initial_upper_loss);
}

TEST(OuterFuse, FallsBackToAdamAfterRepeatedLineSearchFailures) {
  for (PetscInt max_failures : {1, 2}) {
    TempDir tmp;
    Quadratic prob(6, 3);
    prob.sabotage_trials = true;  // every Armijo trial fails; Adam does not use trials
    OuterOptions o = fuse_options();
    o.fuse_switch_it = 3;
    o.fuse_max_failures = max_failures;
    o.ls_max_backtracks = 2;
    o.max_it = 12;
    TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, tmp.path());
    EXPECT_EQ(r.optimizer_summary.at("fuse_switch_iteration"), 3);
    EXPECT_EQ(r.optimizer_summary.at("fuse_fallback_iteration"), 3 + max_failures);
    EXPECT_EQ(r.optimizer_summary.at("fuse_phase"), "adam");
    EXPECT_EQ(r.stop_reason, "max_it") << r.stop_message;
    EXPECT_EQ(r.outer_iterations, 12);
    // Failed L-BFGS steps were replaced by Adam steps (and their backtracks counted).
    for (const auto& p : phases(tmp.sub("history.csv"))) EXPECT_EQ(p, "adam");
    // (memory is empty after the switch, so each failed step is one steepest-descent search,
    // repeated once at a tighter tolerance under the adaptive policy)
    EXPECT_EQ(r.armijo_backtracks_total, max_failures * (o.adaptive_tol ? 2 : 1) * (o.ls_max_backtracks + 1));
    EXPECT_LT(prob.exact(r.theta, nullptr), 0.5 * r.initial_upper_loss);
  }
}

TEST(OuterFuse, MiniBatchAdamThenFullBatchLbfgs) {
  Quadratic prob(6, 5);
  OuterOptions o = fuse_options();
  o.batch_size = 2;
  o.fuse_switch_it = 6;
  o.max_it = 30;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, "");
  EXPECT_EQ(r.optimizer_summary.at("fuse_switch_iteration"), 6);
  // After the switch every evaluation is full batch; L-BFGS converges to the full minimiser.
  size_t last_batched = 0;
  for (size_t i = 0; i < prob.batches.size(); ++i)
    if (!prob.batches[i].empty()) last_batched = i;
  EXPECT_EQ(last_batched, 7u);  // the initial full evaluation, then batches for θ₀..θ₆
  const auto m = prob.minimiser();
  for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(r.theta[i], m[i], 1e-6);
}
