// Outer optimisers on analytic functions: each reduces the loss; every accepted Armijo step
// satisfies the Armijo inequality (checked from history.csv); inexact Armijo converges with
// a noisy oracle; L-BFGS beats GD on Rosenbrock; bounds, adaptive tolerances, options.
#include <gtest/gtest.h>

#include <cmath>

#include "analytic_problems.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/outer/line_search.hpp"
#include "bilearn/outer/rng.hpp"
#include "bilearn/outer/trainer.hpp"

using namespace bilearn;
using namespace outer_test;

namespace {

// Checks L_k ≤ L_{k−1} − c α_k ‖g_{k−1}‖² for every row of history.csv (row 1 uses θ₀).
void expect_armijo_rows(const std::string& path, PetscReal initial_loss, PetscReal initial_grad_norm, PetscReal c,
                        PetscInt expected_rows) {
  const auto rows = read_csv(path);
  ASSERT_GE(rows.size(), 1u);
  const std::string header = rows[0].empty() ? "" : read_file(path).substr(0, read_file(path).find('\n'));
  EXPECT_EQ(
      header.rfind("iteration,upper_loss,grad_norm,step,backtracks,krylov_iterations,lower_iterations,seconds", 0), 0u)
      << header;
  EXPECT_EQ(static_cast<PetscInt>(rows.size()) - 1, expected_rows);
  PetscReal prev_loss = initial_loss, prev_g = initial_grad_norm;
  for (size_t r = 1; r < rows.size(); ++r) {
    ASSERT_GE(rows[r].size(), 8u);
    EXPECT_EQ(std::stol(rows[r][0]), static_cast<long>(r));
    const PetscReal loss = std::stod(rows[r][1]), g = std::stod(rows[r][2]), alpha = std::stod(rows[r][3]);
    EXPECT_LE(loss, prev_loss - c * alpha * prev_g * prev_g + 1e-13 * std::fabs(prev_loss)) << "row " << r;
    prev_loss = loss;
    prev_g = g;
  }
}

PetscReal initial_grad_norm(AnalyticProblem& prob, const std::vector<PetscReal>& theta0) {
  std::vector<PetscReal> g;
  prob.exact(theta0, &g);
  PetscReal s = 0;
  for (PetscReal v : g) s += v * v;
  return std::sqrt(s);
}

}  // namespace

TEST(OuterGd, ArmijoReducesQuadraticAndEveryStepSatisfiesArmijo) {
  TempDir tmp;
  Quadratic prob(6, 3);
  OuterOptions o = quiet_options("gd");
  o.max_it = 40;
  o.step = 2.0;            // too large for d_max = 6: forces backtracking at first
  o.first_step_norm = 0;  // (the cap on the first step would avoid it)
  const std::vector<PetscReal> theta0(6, -2.0);
  const PetscReal g0 = initial_grad_norm(prob, theta0);
  TrainResult r = train(PETSC_COMM_WORLD, prob, theta0, o, tmp.sub("run"));
  EXPECT_EQ(r.stop_reason, "max_it");
  EXPECT_EQ(r.outer_iterations, 40);
  EXPECT_LT(r.upper_loss, 1e-3 * r.initial_upper_loss);
  EXPECT_GT(r.armijo_backtracks_total, 0);
  EXPECT_EQ(r.lower_iterations_total, 5 * r.evaluations_total);
  EXPECT_EQ(r.krylov_iterations_total, 3 * prob.gradient_evaluations);
  EXPECT_EQ(prob.accepts, r.outer_iterations + 1);
  expect_armijo_rows(tmp.sub("run/history.csv"), r.initial_upper_loss, g0, o.ls_c, r.outer_iterations);
}

TEST(OuterGd, ArmijoOnL0L1SmoothFunctionFindsItsOwnSteps) {
  // cosh(2(θ−c)) from θ = 4: the local curvature falls by ~e^14 along the way; no fixed 1/L.
  TempDir tmp;
  CoshSum prob(4);
  OuterOptions o = quiet_options("gd");
  o.max_it = 300;
  o.gtol = 1e-8;
  const std::vector<PetscReal> theta0(4, 4.0);
  const PetscReal g0 = initial_grad_norm(prob, theta0);
  TrainResult r = train(PETSC_COMM_WORLD, prob, theta0, o, tmp.sub("run"));
  EXPECT_EQ(r.stop_reason, "gtol") << r.stop_message;
  EXPECT_LT(r.upper_loss, 1e-14);
  for (PetscInt i = 0; i < 4; ++i) EXPECT_NEAR(r.theta[i], 0.25 * i, 1e-8);
  expect_armijo_rows(tmp.sub("run/history.csv"), r.initial_upper_loss, g0, o.ls_c, r.outer_iterations);
  // The accepted steps grew from ≈ 1/(L0 + L1‖∇L‖) far away to ≈ 1/L0 near the minimum.
  const auto rows = read_csv(tmp.sub("run/history.csv"));
  EXPECT_GT(std::stod(rows.back()[3]), 100 * std::stod(rows[1][3]));
}

TEST(OuterFirstStep, CapsTheMoveOfAStepWithoutCurvatureInformation) {
  const std::vector<PetscReal> d = {3.0, -4.0};  // ‖d‖ = 5
  EXPECT_DOUBLE_EQ(first_trial_step(1.0, 1.0, d), 0.2);
  EXPECT_DOUBLE_EQ(first_trial_step(0.1, 1.0, d), 0.1);  // already shorter
  EXPECT_DOUBLE_EQ(first_trial_step(1.0, 0.0, d), 1.0);  // 0: no cap
  EXPECT_DOUBLE_EQ(first_trial_step(1.0, 1.0, {0.0, 0.0}), 1.0);
}

// The upper loss grows with the pixel count (‖∇L‖ ∝ N² for the same images): with the first
// step capped, gd and L-BFGS take the same iterates on L and on 4096·L (Armijo's test and the
// step growth are invariant under that scaling once α₀ is), and the first step moves θ by at
// most -outer_first_step_norm. Without the cap, α₀ = 1 on 4096·L lands 4096× farther away.
TEST(OuterFirstStep, IteratesDoNotDependOnTheScaleOfTheLoss) {
  for (const std::string type : {"gd", "lbfgs"}) {
    TempDir tmp;
    OuterOptions o = quiet_options(type);
    o.max_it = 12;
    o.first_step_norm = 1.0;
    const std::vector<PetscReal> theta0(6, -2.0);
    ScaledQuadratic small(1.0, 6, 2), large(4096.0, 6, 2);
    const TrainResult rs = train(PETSC_COMM_WORLD, small, theta0, o, tmp.sub("small"));
    const TrainResult rl = train(PETSC_COMM_WORLD, large, theta0, o, tmp.sub("large"));
    ASSERT_EQ(rs.outer_iterations, 12) << type << ": " << rs.stop_message;
    ASSERT_EQ(rl.outer_iterations, 12) << type << ": " << rl.stop_message;
    EXPECT_LT(rs.upper_loss, 1e-2 * rs.initial_upper_loss) << type;
    for (size_t i = 0; i < theta0.size(); ++i) EXPECT_NEAR(rl.theta[i], rs.theta[i], 1e-12) << type << " θ" << i;
    EXPECT_EQ(rl.evaluations_total, rs.evaluations_total) << type;
    const auto rows = read_csv(tmp.sub("large/history.csv"));
    ASSERT_GE(rows.size(), 2u);
    EXPECT_LE(std::stod(rows[1][8]), 1.0 + 1e-12) << type << ": step_norm of the first step";  // ‖θ₁ − θ₀‖

    OuterOptions uncapped = o;
    uncapped.first_step_norm = 0;
    ScaledQuadratic large2(4096.0, 6, 2);
    const TrainResult ru = train(PETSC_COMM_WORLD, large2, theta0, uncapped, tmp.sub("uncapped"));
    EXPECT_GT(ru.armijo_backtracks_total, rl.armijo_backtracks_total + 5) << type;
  }
}

TEST(OuterGd, FixedStepReducesLoss) {
  Quadratic prob(6, 1);
  OuterOptions o = quiet_options("gd");
  o.ls = "none";
  o.step = 0.1;
  o.max_it = 60;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, 0.0), o, "");
  EXPECT_EQ(r.outer_iterations, 60);
  EXPECT_EQ(r.armijo_backtracks_total, 0);
  EXPECT_LT(r.upper_loss, 1e-4 * r.initial_upper_loss);
}

TEST(OuterGd, InexactArmijoWithNoisyOracleConverges) {
  // The oracle's L̃ and ∇L̃ carry noise of size ε (the requested accuracy); the line search
  // must tighten ε as the decrease it can certify shrinks.
  Quadratic prob(6, 2);
  prob.noisy = true;
  OuterOptions o = quiet_options("gd");
  o.ls = "inexact";
  o.max_it = 150;
  o.gtol = 1e-6;
  const std::vector<PetscReal> theta0(6, -3.0);
  TrainResult r = train(PETSC_COMM_WORLD, prob, theta0, o, "");
  // Either stationary, or stopped at the noise floor: ε reached -outer_inexact_eps_min.
  EXPECT_TRUE(r.stop_reason == "gtol" ||
              (r.stop_reason == "line_search_failed" && r.optimizer_summary.at("inexact_epsilon") == o.inexact_eps_min))
      << r.stop_message;
  EXPECT_LT(r.outer_iterations, o.max_it);
  const auto m = prob.minimiser();
  const PetscReal lstar = prob.exact(m, nullptr), l0 = prob.exact(theta0, nullptr);
  const PetscReal lfinal = prob.exact(r.theta, nullptr);
  EXPECT_LT(lfinal - lstar, 1e-6 * (l0 - lstar)) << "final accuracy " << r.optimizer_summary.dump();
  // ε started at 0.1 and was tightened on the way.
  EXPECT_DOUBLE_EQ(prob.tolerances.front(), 0.1);
  PetscReal smallest = 1;
  for (PetscReal t : prob.tolerances) smallest = std::min(smallest, t);
  EXPECT_LT(smallest, 1e-3);
}

TEST(OuterAdam, FullBatchReducesLoss) {
  Quadratic prob(6, 3);
  OuterOptions o = quiet_options("adam");
  o.adam_lr = 0.1;
  o.max_it = 150;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, "");
  EXPECT_EQ(r.outer_iterations, 150);
  EXPECT_LT(r.upper_loss - prob.exact(prob.minimiser(), nullptr), 1e-3 * r.initial_upper_loss);
  for (const auto& b : prob.batches) EXPECT_TRUE(b.empty());
}

TEST(OuterAdam, MiniBatchesAreReproducibleAndReduceLoss) {
  auto run = [](PetscInt seed, Quadratic& prob) {
    OuterOptions o = quiet_options("adam");
    o.adam_lr = 0.05;
    o.max_it = 100;
    o.batch_size = 2;
    o.seed = seed;
    return train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -2.0), o, "");
  };
  Quadratic a(6, 5), b(6, 5), c(6, 5);
  TrainResult ra = run(7, a), rb = run(7, b), rc = run(8, c);
  EXPECT_EQ(ra.theta, rb.theta);  // bitwise
  EXPECT_NE(ra.theta, rc.theta);
  EXPECT_LT(ra.upper_loss, 0.05 * ra.initial_upper_loss);
  // Every step used a batch of 2 distinct sorted samples in range; the final evaluation is full.
  size_t batched = 0;
  for (const auto& batch : a.batches)
    if (!batch.empty()) {
      ++batched;
      EXPECT_EQ(batch.size(), 2u);
      EXPECT_LT(batch[0], batch[1]);
      EXPECT_LT(batch[1], 5);
    }
  EXPECT_EQ(batched, 101u);
  EXPECT_TRUE(a.batches.front().empty());
  EXPECT_TRUE(a.batches.back().empty());
}

TEST(OuterRng, BatchesAreUniformAndDistinct) {
  SplitMix64 rng(3);
  std::vector<int> count(10, 0);
  for (int k = 0; k < 20000; ++k)
    for (PetscInt s : draw_batch(rng, 10, 3)) ++count[s];
  for (int c : count) EXPECT_NEAR(c / 60000.0, 0.1, 0.01);
  SplitMix64 a(42), b(42);
  a.next();
  b.set_state(a.state());
  EXPECT_EQ(a.next(), b.next());
}

TEST(OuterLbfgs, ConvergesOnRosenbrockInFarFewerStepsThanGd) {
  const std::vector<PetscReal> theta0 = {-1.2, 1.0};
  Rosenbrock p1, p2;
  OuterOptions o = quiet_options("lbfgs");
  o.max_it = 400;
  o.gtol = 1e-6;
  o.ls_c = 1e-4;
  TrainResult rl = train(PETSC_COMM_WORLD, p1, theta0, o, "");
  o.type = "gd";
  o.ls_c = 1e-2;
  TrainResult rg = train(PETSC_COMM_WORLD, p2, theta0, o, "");
  EXPECT_EQ(rl.stop_reason, "gtol") << rl.stop_message;
  EXPECT_NEAR(rl.theta[0], 1.0, 1e-5);
  EXPECT_NEAR(rl.theta[1], 1.0, 1e-5);
  EXPECT_LT(rl.outer_iterations, 60);
  EXPECT_LT(rg.upper_loss, rg.initial_upper_loss);  // GD does descend, slowly
  EXPECT_GT(rg.outer_iterations, 5 * rl.outer_iterations)
      << "gd " << rg.outer_iterations << " lbfgs " << rl.outer_iterations;
  if (rg.stop_reason == "gtol") {
    EXPECT_GT(rg.evaluations_total, 5 * rl.evaluations_total);
  }
}

TEST(OuterLbfgs, ReducesExtendedRosenbrockAndCosh) {
  Rosenbrock ros(6);
  OuterOptions o = quiet_options("lbfgs");
  o.max_it = 200;
  o.gtol = 1e-7;
  o.ls_c = 1e-4;
  TrainResult r = train(PETSC_COMM_WORLD, ros, std::vector<PetscReal>(6, -1.0), o, "");
  EXPECT_EQ(r.stop_reason, "gtol") << r.stop_message;
  EXPECT_LT(r.upper_loss, 1e-12);
  CoshSum cosh_problem(4);
  o.step = 1e-3;
  TrainResult rc = train(PETSC_COMM_WORLD, cosh_problem, std::vector<PetscReal>(4, 4.0), o, "");
  EXPECT_EQ(rc.stop_reason, "gtol") << rc.stop_message;
  EXPECT_LT(rc.outer_iterations, 60);
}

TEST(OuterBounds, IteratesStayInTheBox) {
  TempDir tmp;
  Quadratic prob(4, 1);  // unconstrained minimiser 1, 0.95, 0.9, 0.85
  for (const std::string type : {"gd", "adam", "lbfgs"}) {
    OuterOptions o = quiet_options(type);
    o.max_it = 80;
    o.adam_lr = 0.1;
    o.theta_min = {-0.5};
    o.theta_max = {0.9, 0.5, 2.0, 2.0};
    o.checkpoint_every = 0;
    TrainResult r = train(PETSC_COMM_WORLD, prob, {3.0, -3.0, 0.0, 0.0}, o, tmp.sub(type));
    EXPECT_NEAR(r.theta[0], 0.9, 1e-6) << type;
    EXPECT_NEAR(r.theta[1], 0.5, 1e-6) << type;
    EXPECT_NEAR(r.theta[2], 0.9, type == "adam" ? 3e-2 : 1e-3) << type;
    const auto rows = read_csv(tmp.sub(type + "/history.csv"));
    for (size_t k = 1; k < rows.size(); ++k)
      for (size_t i = 0; i < 4; ++i) {
        const PetscReal t = std::stod(rows[k][12 + i]);
        EXPECT_GE(t, -0.5);
        EXPECT_LE(t, o.theta_max[i]);
      }
  }
}

// Near the minimiser the decrease Armijo asks for is below the accuracy of L: every trial at the
// policy's tolerance fails (here biased by it), and the search is repeated once at a hundredth of
// it from θ_k re-evaluated there.
TEST(OuterAccuracy, FailedSearchIsRepeatedAtATighterTolerance) {
  Quadratic prob(6, 1);
  prob.bias_trials_by_tolerance = true;
  OuterOptions o = quiet_options("gd");
  o.tol_kappa = 1e6;  // the policy's tolerance stays at tol_max
  o.tol_max = 1e-2;
  o.tol_min = 1e-8;
  o.max_it = 2;  // (then L ≈ 5e-5: below a hundredth of the tolerance too)
  std::vector<PetscReal> theta0 = prob.minimiser();
  for (auto& t : theta0) t += 0.01;  // L ≈ 1e-3, a decrease far below 1e-2
  TrainResult r = train(PETSC_COMM_WORLD, prob, theta0, o, "");
  EXPECT_EQ(r.stop_reason, "max_it") << r.stop_message;
  EXPECT_EQ(r.outer_iterations, 2);
  EXPECT_LT(prob.exact(r.theta, nullptr), 0.5 * prob.exact(theta0, nullptr));
  EXPECT_NE(std::find(prob.tolerances.begin(), prob.tolerances.end(), 1e-4), prob.tolerances.end())
      << "no evaluation at a hundredth of the tolerance";
  for (PetscReal t : prob.tolerances) EXPECT_TRUE(t == 1e-2 || t == 1e-4) << t;
}

TEST(OuterAccuracy, AdaptiveToleranceFollowsGradientNorm) {
  Quadratic prob(6, 1);
  OuterOptions o = quiet_options("gd");
  o.adaptive_tol = true;
  o.tol_kappa = 0.01;
  o.tol_min = 1e-7;
  o.tol_max = 1e-2;
  o.tol_lower_scale = 4;
  o.max_it = 60;
  TrainResult r = train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(6, -3.0), o, "");
  EXPECT_DOUBLE_EQ(prob.tolerances.front(), 1e-2);
  ASSERT_EQ(prob.lower_tolerances.size(), prob.tolerances.size());
  for (size_t i = 0; i < prob.tolerances.size(); ++i) {
    const PetscReal t = prob.tolerances[i];
    EXPECT_GE(t, 1e-7);
    EXPECT_LE(t, 1e-2);
    EXPECT_DOUBLE_EQ(prob.lower_tolerances[i], 4 * t);  // -outer_tol_lower_scale
  }
  EXPECT_LT(prob.tolerances.back(), 1e-5);  // tight at the end (‖∇L‖ small)
  EXPECT_LT(r.upper_loss, 1e-6 * r.initial_upper_loss);
}

TEST(OuterFailure, FirstStepFailureThrowsLaterFailureStops) {
  Quadratic p1(3, 1);
  p1.sabotage_trials = true;
  OuterOptions o = quiet_options("gd");
  o.ls_max_backtracks = 3;
  try {
    train(PETSC_COMM_WORLD, p1, std::vector<PetscReal>(3, 0.0), o, "");
    ADD_FAILURE() << "expected NumericalError";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("no step was accepted"), std::string::npos) << e.what();
  }
  Quadratic p2(3, 1);
  p2.sabotage_after = 6;
  o.max_it = 50;
  TrainResult r = train(PETSC_COMM_WORLD, p2, std::vector<PetscReal>(3, 0.0), o, "");
  EXPECT_EQ(r.stop_reason, "line_search_failed");
  EXPECT_NE(r.stop_message.find("after 3 backtracks"), std::string::npos) << r.stop_message;
  EXPECT_GE(r.outer_iterations, 1);
  EXPECT_LT(r.upper_loss, r.initial_upper_loss);
}

TEST(OuterOptionsTest, ReadFromDatabaseAndChecked) {
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-outer_type", "lbfgs"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-outer_lbfgs_m", "7"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-outer_theta_min", "0,1"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-outer_adaptive_tol", "1"));
  OuterOptions o = read_outer_options(PETSC_COMM_WORLD);
  EXPECT_EQ(o.type, "lbfgs");
  EXPECT_EQ(o.lbfgs_m, 7);
  EXPECT_EQ(o.theta_min, (std::vector<PetscReal>{0, 1}));
  EXPECT_TRUE(o.adaptive_tol);
  EXPECT_EQ(o.max_it, 50);
  EXPECT_DOUBLE_EQ(o.ls_c, 1e-2);
  EXPECT_DOUBLE_EQ(o.ls_rho, 0.4);
  EXPECT_DOUBLE_EQ(o.ls_growth, 1.2);
  EXPECT_DOUBLE_EQ(o.inexact_eps0, 0.1);
  EXPECT_DOUBLE_EQ(o.inexact_c, 1e-4);
  EXPECT_DOUBLE_EQ(o.inexact_rho, 0.5);
  EXPECT_DOUBLE_EQ(o.inexact_nu, 1.05);
  Quadratic prob(3, 1);
  o.progress = false;
  try {  // 2 bounds for 3 parameters
    train(PETSC_COMM_WORLD, prob, std::vector<PetscReal>(3, 0.0), o, "");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "-outer_theta_min needs 1 or 3 values, got 2");
  }
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-outer_type", "newton"));
  try {
    read_outer_options(PETSC_COMM_WORLD);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "unknown value 'newton' for -outer_type (choose one of gd, adam, lbfgs, fuse)");
  }
  for (const char* name : {"-outer_type", "-outer_lbfgs_m", "-outer_theta_min", "-outer_adaptive_tol"})
    BILEARN_CHECK(PetscOptionsClearValue(nullptr, name));
}
