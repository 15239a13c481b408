// The implicit hypergradient against central finite differences of the upper loss, its
// independence of the rank count, and the errors bad input and bad solvers must produce.
#include <gtest/gtest.h>
#include <petsc/private/petscimpl.h>  // PetscObjectStateGet

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/driver/bilevel_problem.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/hypergrad/hypergradient_ksp.hpp"
#include "bilearn/lower/cold_start.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/reg/regulariser.hpp"
#include "bilevel_fixture.hpp"

using namespace bilearn;
using namespace bilearn::testing;

namespace {

const std::vector<std::pair<std::string, std::string>> kTight = {{"-lower_tao_gatol", "1e-11"},
                                                                 {"-lower_gradient_rtol", "0"},
                                                                 {"-hyper_ksp_rtol", "1e-12"},
                                                                 {"-lower_tao_max_it", "500"}};

std::vector<std::pair<std::string, std::string>> with_tight(std::vector<std::pair<std::string, std::string>> o) {
  o.insert(o.end(), kTight.begin(), kTight.end());
  return o;
}

// Implicit hypergradient vs central differences of L (relative error in the 2-norm).
double implicit_vs_fd(MPI_Comm comm, PetscInt n, PetscReal epsilon, PetscReal fd_step = 1e-4) {
  Fixture f(comm, n, 2, epsilon);
  const std::vector<PetscReal> theta = f.reg->initial_theta();
  auto implicit = create_implicit_estimator();
  UpperEvaluation e = implicit->evaluate(*f.problem, theta, true);
  auto fd = create_fd_estimator(fd_step);
  UpperEvaluation r = fd->evaluate(*f.problem, theta, true);
  EXPECT_NEAR(e.loss, r.loss, 1e-10 * std::abs(r.loss));
  return relative_difference(e.gradient, r.gradient);
}

}  // namespace

TEST(Hypergradient, TomographyTvMatchesFiniteDifferences) {
  ScopedOptions o(with_tight({{"-problem", "tomo"},
                              {"-tomo_angles", "24"},
                              {"-reg_type", "tv"},
                              {"-reg_theta", "-2.0,-1.5"},
                              {"-reg_tv_learn_gamma", ""}}));
  const double err = implicit_vs_fd(PETSC_COMM_WORLD, 16, 1e-3);
  EXPECT_LT(err, 1e-5);
}

TEST(Hypergradient, TomographyFoeMatchesFiniteDifferences) {
  for (const char* theta : {"-3,-3,-3,-3,-3,-3,-3,-3", "-2,-3.5,-2.5,-3,-4,-2.2,-3,-2.7"}) {
    ScopedOptions o(with_tight({{"-problem", "tomo"},
                                {"-tomo_angles", "24"},
                                {"-reg_type", "foe"},
                                {"-reg_foe_filters", "dct3"},
                                {"-reg_foe_expert", "l1"},
                                {"-reg_theta", theta}}));
    const double err = implicit_vs_fd(PETSC_COMM_WORLD, 16, 1e-3);
    EXPECT_LT(err, 1e-5) << "theta " << theta;
  }
}

TEST(Hypergradient, TomographyFoeLearnableFiltersMatchesFiniteDifferences) {
  ScopedOptions o(with_tight({{"-problem", "tomo"},
                              {"-tomo_angles", "24"},
                              {"-reg_type", "foe"},
                              {"-reg_foe_filters", "dct3"},
                              {"-reg_foe_expert", "lorentzian"},
                              {"-reg_foe_learn_filters", ""},
                              {"-lower_tao_type", "ntr"}}));
  // Lorentzian experts make L strongly curved in the filter coefficients: the central
  // difference needs a small step (1e-3 gives 4e-2, 1e-4 gives 3e-4 relative error), and at
  // 1e-5 its own error is ~1e-5 (the lower-level tolerance over the step; 1.006e-5 seen on 3
  // ranks, depending on which local minimum of the non-convex lower level the solve reaches).
  const double err = implicit_vs_fd(PETSC_COMM_WORLD, 14, 1e-2, 1e-5);
  EXPECT_LT(err, 3e-5);
}

TEST(Hypergradient, DeblurringMatchesFiniteDifferences) {
  ScopedOptions o(with_tight({{"-problem", "blur"},
                              {"-blur_sigma", "1.2"},
                              {"-reg_type", "foe"},
                              {"-reg_foe_filters", "dct3"},
                              {"-reg_foe_expert", "huber"}}));
  const double err = implicit_vs_fd(PETSC_COMM_WORLD, 16, 1e-3);
  EXPECT_LT(err, 1e-5);
}

// Weights of 10^309 overflow: Φ(0) = ∞·0 = NaN. The solve fails with a NumericalError (what the
// outer line search rejects as a trial point), not with TAO's PETSc error, and a tolerant problem
// returns the loss of a failed solve (PETSC_INFINITY).
TEST(LowerSolver, NonFiniteObjectiveIsANumericalError) {
  ScopedOptions o({{"-problem", "tomo"}, {"-tomo_angles", "24"}, {"-reg_type", "foe"}, {"-reg_foe_filters", "dct3"}});
  Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-3);
  const std::vector<PetscReal> huge(static_cast<size_t>(f.reg->num_params()), 309.0);
  EvaluationStats stats;
  EXPECT_THROW(f.problem->reconstruct(huge, stats), NumericalError);
  f.problem->set_tolerate_failures(true);
  for (auto& s : f.problem->samples()) BILEARN_CHECK(VecSet(s.x_hat, 0.0));
  const PetscReal loss = f.problem->reconstruct(huge, stats);
  EXPECT_GE(loss, PETSC_INFINITY);  // a failed sample's loss
  // The problem still solves at a sensible θ afterwards.
  for (auto& s : f.problem->samples()) BILEARN_CHECK(VecSet(s.x_hat, 0.0));
  EXPECT_TRUE(std::isfinite(f.problem->reconstruct(f.reg->initial_theta(), stats)));
}

TEST(Hypergradient, SameOnAnyRankCount) {
  ScopedOptions o(with_tight({{"-problem", "tomo"},
                              {"-tomo_angles", "20"},
                              {"-reg_type", "foe"},
                              {"-reg_foe_filters", "dct3"},
                              {"-reg_foe_expert", "l1"}}));
  std::vector<PetscReal> here, serial;
  {
    Fixture f(PETSC_COMM_WORLD, 18, 2, 1e-3);
    here = create_implicit_estimator()->evaluate(*f.problem, f.reg->initial_theta(), true).gradient;
  }
  {
    Fixture f(PETSC_COMM_SELF, 18, 2, 1e-3);
    serial = create_implicit_estimator()->evaluate(*f.problem, f.reg->initial_theta(), true).gradient;
  }
  EXPECT_LT(relative_difference(here, serial), 1e-8);
}

TEST(Hypergradient, WrongThetaLengthIsAnInputError) {
  ScopedOptions o({{"-problem", "denoise"}, {"-reg_type", "tv"}});
  Fixture f(PETSC_COMM_WORLD, 12, 1, 1e-3);
  EXPECT_THROW(create_implicit_estimator()->evaluate(*f.problem, {1.0, 2.0, 3.0}, true), InputError);
}

TEST(Hypergradient, NanInDataIsAnInputError) {
  ScopedOptions o({{"-problem", "denoise"}, {"-reg_type", "tv"}});
  Fixture f(PETSC_COMM_WORLD, 12, 1, 1e-3);
  BILEARN_CHECK(VecSetValue(f.data[0], 0, NAN, INSERT_VALUES));
  BILEARN_CHECK(VecAssemblyBegin(f.data[0]));
  BILEARN_CHECK(VecAssemblyEnd(f.data[0]));
  std::vector<Vec> t{f.truth[0]}, d{f.data[0]};
  try {
    BilevelProblem bad(*f.grid, f.model, *f.reg, 1e-3, t, d, {0}, 1);
    ADD_FAILURE() << "NaN data accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("NaN"), std::string::npos) << e.what();
  }
}

TEST(Hypergradient, NonConvergentLowerLevelIsReportedWithTaoReason) {
  ScopedOptions o({{"-problem", "tomo"},
                   {"-tomo_angles", "12"},
                   {"-reg_type", "tv"},
                   {"-lower_tao_max_it", "1"},
                   {"-lower_tao_gatol", "1e-12"},
                   {"-lower_gradient_rtol", "0"}});
  Fixture f(PETSC_COMM_WORLD, 12, 1, 1e-3);
  try {
    create_implicit_estimator()->evaluate(*f.problem, f.reg->initial_theta(), true);
    ADD_FAILURE() << "non-convergence not reported";
  } catch (const NumericalError& e) {
    EXPECT_NE(std::string(e.what()).find("DIVERGED"), std::string::npos) << e.what();
  }
}

TEST(Hypergradient, IndefiniteHessianIsDetectedByCgAndHandledByMinres) {
  // At an inexact lower-level point with strong edges, Lorentzian experts (φ'' < 0 for
  // |t| > γ) with a large weight, a mask that removes most pixels and a tiny ε make H
  // indefinite. The lower solve is made to accept the warm start x̃ = 0.9 x† as it is.
  std::vector<std::pair<std::string, std::string>> base = {
      {"-problem", "inpaint"},           {"-inpaint_fraction", "0.3"},      {"-reg_type", "foe"},
      {"-reg_foe_filters", "dct3"},      {"-reg_foe_expert", "lorentzian"}, {"-reg_foe_gamma", "0.01"},
      {"-reg_theta", "0,0,0,0,0,0,0,0"}, {"-lower_tao_gatol", "1e10"}};
  auto start_inexact = [](Fixture& f) {
    for (auto& s : f.problem->samples()) BILEARN_CHECK(VecAXPBY(s.x_hat, 0.9, 0.0, s.truth));
  };
  {
    auto o_cg = base;
    o_cg.push_back({"-hyper_ksp_type", "cg"});
    ScopedOptions o(o_cg);
    Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-8);
    start_inexact(f);
    try {
      create_implicit_estimator()->evaluate(*f.problem, f.reg->initial_theta(), true);
      ADD_FAILURE() << "indefinite H accepted by CG";
    } catch (const NumericalError& e) {
      EXPECT_NE(std::string(e.what()).find("indefinite"), std::string::npos) << e.what();
    }
  }
  {
    auto o_minres = base;
    o_minres.push_back({"-hyper_ksp_type", "minres"});
    ScopedOptions o(o_minres);
    Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-8);
    start_inexact(f);
    UpperEvaluation e = create_implicit_estimator()->evaluate(*f.problem, f.reg->initial_theta(), true);
    EXPECT_EQ(e.gradient.size(), 8u);
    for (PetscReal g : e.gradient) EXPECT_TRUE(std::isfinite(g));
  }
  {
    // The default KSP (CG, not chosen by the user) switches to MINRES and solves.
    ScopedOptions o(base);
    Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-8);
    start_inexact(f);
    auto estimator = create_implicit_estimator();
    UpperEvaluation e = estimator->evaluate(*f.problem, f.reg->initial_theta(), true);
    EXPECT_EQ(e.gradient.size(), 8u);
    for (PetscReal g : e.gradient) EXPECT_TRUE(std::isfinite(g));
    KSP ksp = estimator->existing_sample_ksp(f.problem->samples().front());
    PetscBool is_minres = PETSC_FALSE;
    BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)ksp, KSPMINRES, &is_minres));
    EXPECT_TRUE(is_minres) << "the default CG did not switch to MINRES on an indefinite H";
  }
}

// The split handed to the recycling KSPs: F v + R v = H v at the current point; F's object
// state never moves (so a carried F·U stays valid), R's moves with set_point; J v into a
// buffer equals the vector form.
TEST(Hypergradient, HessianSplitSumsToHAndOnlyRFollowsThePoint) {
  ScopedOptions o({{"-problem", "tomo"},
                   {"-tomo_angles", "24"},
                   {"-reg_type", "foe"},
                   {"-reg_foe_filters", "dct3"},
                   {"-reg_theta", "-2,-3.5,-2.5,-3,-4,-2.2,-3,-2.7"}});
  Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-3);
  LowerObjective& obj = f.problem->objective();
  OwnedVec x = f.grid->create_vec(), v = f.grid->create_vec(), h = f.grid->create_vec(), fr = f.grid->create_vec(),
           r = f.grid->create_vec();
  BILEARN_CHECK(VecCopy(f.truth[0], x));
  PetscInt lo, hi;
  BILEARN_CHECK(VecGetOwnershipRange(v, &lo, &hi));
  {
    VecArray a(v);
    for (PetscInt i = lo; i < hi; ++i) a[i - lo] = std::cos(0.37 * i);
  }
  PetscObjectState f0, r0, f1, r1;
  BILEARN_CHECK(PetscObjectStateGet((PetscObject)obj.data_hessian(), &f0));
  BILEARN_CHECK(PetscObjectStateGet((PetscObject)obj.reg_hessian(), &r0));
  obj.set_point(x, f.reg->initial_theta());
  BILEARN_CHECK(PetscObjectStateGet((PetscObject)obj.data_hessian(), &f1));
  BILEARN_CHECK(PetscObjectStateGet((PetscObject)obj.reg_hessian(), &r1));
  EXPECT_EQ(f0, f1);
  EXPECT_GT(r1, r0);
  BILEARN_CHECK(MatMult(obj.hessian(), v, h));
  BILEARN_CHECK(MatMult(obj.data_hessian(), v, fr));
  BILEARN_CHECK(MatMult(obj.reg_hessian(), v, r));
  BILEARN_CHECK(VecAXPY(fr, 1.0, r));
  BILEARN_CHECK(VecAXPY(fr, -1.0, h));
  PetscReal diff, norm;
  BILEARN_CHECK(VecNorm(fr, NORM_2, &diff));
  BILEARN_CHECK(VecNorm(h, NORM_2, &norm));
  EXPECT_LT(diff, 1e-13 * norm);
  std::vector<PetscReal> jv_vector, jv_buffer(static_cast<size_t>(f.reg->num_params()));
  obj.mixed_mult(v, jv_vector);
  obj.mixed_mult(v, jv_buffer.data());
  ASSERT_EQ(jv_vector.size(), jv_buffer.size());
  for (size_t i = 0; i < jv_vector.size(); ++i) EXPECT_EQ(jv_vector[i], jv_buffer[i]);
}

namespace {

// Copies of x̂ of every owned sample (they outlive the fixture).
std::vector<OwnedVec> reconstructions(Fixture& f) {
  std::vector<OwnedVec> out;
  for (auto& s : f.problem->samples()) {
    out.emplace_back();
    BILEARN_CHECK(VecDuplicate(s.x_hat, out.back().out()));
    BILEARN_CHECK(VecCopy(s.x_hat, out.back()));
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>> kColdStartProblem = {
    {"-problem", "tomo"},
    {"-tomo_angles", "24"},
    {"-reg_type", "foe"},
    {"-reg_foe_filters", "dct3"},
    {"-reg_theta", "-2,-2.5,-2,-3,-2.2,-2,-3,-2.7"},
    {"-lower_tao_gatol", "1e-10"},
    {"-lower_gradient_rtol", "0"}};

}  // namespace

// Continuation in θ (docs/algorithms.md §4.5) only changes the path from x = 0: the minimiser at θ
// is the one the plain cold solve finds, the stage's iterations are counted, and a warm start
// (x ≠ 0) skips the stage.
TEST(ColdStart, ContinuationReachesThePlainMinimiserAndCountsItsStage) {
  std::vector<OwnedVec> plain, continued;
  EvaluationStats plain_stats, continued_stats;
  {
    auto options = kColdStartProblem;
    options.push_back({"-lower_continuation", "0"});
    ScopedOptions o(options);
    Fixture f(PETSC_COMM_WORLD, 16, 2, 1e-3);
    f.problem->reconstruct(f.reg->initial_theta(), plain_stats);
    plain = reconstructions(f);
  }
  {
    auto options = kColdStartProblem;
    options.push_back({"-lower_continuation", "1"});
    ScopedOptions o(options);
    Fixture f(PETSC_COMM_WORLD, 16, 2, 1e-3);
    const std::vector<PetscReal> theta = f.reg->initial_theta();
    f.problem->reconstruct(theta, continued_stats);
    continued = reconstructions(f);

    ColdStart cold(PETSC_COMM_WORLD);
    ASSERT_TRUE(cold.enabled());
    OwnedVec work = f.grid->create_vec();
    const PetscReal gatol = f.problem->lower_solver().gradient_tolerance();
    f.problem->objective().set_data(f.data.front());
    const LowerSolveResult warm =
        cold.prepare(f.problem->lower_solver(), theta, f.problem->samples().front().x_hat, work);
    EXPECT_EQ(warm.iterations, 0) << "a warm start must skip the continuation stage";
    OwnedVec zero = f.grid->create_vec();
    const LowerSolveResult stage = cold.prepare(f.problem->lower_solver(), theta, zero, work);
    EXPECT_GT(stage.iterations, 0);
    PetscReal norm;
    BILEARN_CHECK(VecNorm(zero, NORM_2, &norm));
    EXPECT_GT(norm, 0) << "the stage must move x away from 0";
    EXPECT_EQ(f.problem->lower_solver().gradient_tolerance(), gatol) << "the solver's tolerance must be restored";
  }
  EXPECT_GT(continued_stats.lower_iterations, 0);
  ASSERT_EQ(plain.size(), continued.size());
  for (size_t s = 0; s < plain.size(); ++s) {
    PetscReal reference, difference;
    BILEARN_CHECK(VecNorm(plain[s], NORM_2, &reference));
    BILEARN_CHECK(VecAXPY(continued[s], -1.0, plain[s]));
    BILEARN_CHECK(VecNorm(continued[s], NORM_2, &difference));
    EXPECT_LT(difference, 1e-6 * reference) << "sample " << s;
  }
}

// -lower_newton primal_dual (docs/algorithms.md §4.8) and plain reach the same minimiser and the
// same hypergradient (the hypergradient's H is the true Hessian after either), for the samples
// solved in lockstep and one at a time; a nonsense value is an input error.
TEST(LowerSolver, PrimalDualNewtonReachesThePlainMinimiser) {
  auto tv_problem = kColdStartProblem;
  tv_problem[2] = {"-reg_type", "tv"};
  tv_problem[3] = {"-reg_tv_gamma", "0.01"};
  tv_problem[4] = {"-reg_theta", "-2.5"};
  for (const auto& problem : {kColdStartProblem, tv_problem})
    for (const char* batch : {"true", "false"}) {
      std::vector<UpperEvaluation> results;
      for (const char* newton : {"plain", "primal_dual"}) {
        auto options = problem;
        options.insert(options.end(),
                       {{"-lower_newton", newton}, {"-lower_batch", batch}, {"-hyper_ksp_rtol", "1e-12"}});
        ScopedOptions o(options);
        Fixture f(PETSC_COMM_WORLD, 16, 2, 1e-3);
        results.push_back(create_implicit_estimator()->evaluate(*f.problem, f.reg->initial_theta(), true));
        EXPECT_GT(results.back().stats.lower_iterations, 0);
      }
      EXPECT_NEAR(results[1].loss, results[0].loss, 1e-9 * std::abs(results[0].loss))
          << problem[2].second << ", batch " << batch;
      EXPECT_LT(relative_difference(results[1].gradient, results[0].gradient), 1e-7)
          << problem[2].second << ", batch " << batch;
    }
  ScopedOptions o(std::vector<std::pair<std::string, std::string>>{{"-lower_newton", "dual"}});
  EXPECT_THROW(Fixture(PETSC_COMM_WORLD, 16, 1, 1e-3), InputError);
}

TEST(ColdStart, NegativeShiftIsAnInputError) {
  ScopedOptions o(std::vector<std::pair<std::string, std::string>>{{"-lower_continuation", "-0.5"}});
  EXPECT_THROW(ColdStart cold(PETSC_COMM_WORLD), InputError);
}

// The lower solve stops at ‖∇Φ‖ ≤ max(gatol, rtol·‖Aᵀy‖): with a negligible gatol the relative
// test decides, a looser rtol takes fewer Newton steps, and ‖Aᵀy‖ is ‖∇Φ(0)‖.
TEST(LowerStoppingTest, RelativeToleranceIsMeasuredAgainstTheDataGradient) {
  PetscReal scale = 0;
  std::vector<LowerSolveResult> results;
  for (const char* rtol : {"1e-12", "1e-4"}) {
    ScopedOptions o(std::vector<std::pair<std::string, std::string>>{{"-problem", "tomo"},
                                                                     {"-tomo_angles", "24"},
                                                                     {"-reg_type", "tv"},
                                                                     {"-lower_continuation", "0"},
                                                                     {"-lower_tao_gatol", "1e-30"},
                                                                     {"-lower_gradient_rtol", rtol}});
    Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-3);
    LowerObjective& objective = f.problem->objective();
    objective.set_data(f.data.front());
    scale = objective.data_gradient_norm();
    OwnedVec zero = f.grid->create_vec(), g = f.grid->create_vec();
    objective.value_and_gradient(zero, f.reg->initial_theta(), g);
    PetscReal g0;
    BILEARN_CHECK(VecNorm(g, NORM_2, &g0));
    EXPECT_NEAR(scale, g0, 1e-12 * g0) << "|A^T y| must be |grad Phi(0)|";
    results.push_back(f.problem->lower_solver().solve(zero, f.reg->initial_theta()));
    EXPECT_LE(results.back().gradient_norm, std::atof(rtol) * scale);
  }
  EXPECT_GT(results[0].gradient_norm, 1e-30) << "gatol alone would not have stopped";
  EXPECT_LT(results[1].iterations, results[0].iterations);
}

// A warm start solved at θ meets a loose tolerance at a nearby θ′ already: the solve takes no
// Newton step and x̂ does not follow θ. require_progress(0.1) makes that solve (only that one)
// take ‖∇Φ‖ to a tenth of its value at the warm start; the next solve is back to the tolerance.
TEST(LowerStoppingTest, RequiredProgressMovesAWarmStartThatMeetsALooseTolerance) {
  for (const char* batch : {"false", "true"}) {
    ScopedOptions o(std::vector<std::pair<std::string, std::string>>{
        {"-problem", "tomo"}, {"-tomo_angles", "24"}, {"-reg_type", "foe"}, {"-lower_batch", batch}});
    Fixture f(PETSC_COMM_WORLD, 16, 2, 1e-3);
    const std::vector<PetscReal> theta = f.reg->initial_theta();
    EvaluationStats stats;
    f.problem->reconstruct(theta, stats);  // tightly, from zero
    std::vector<PetscReal> nearby = theta;
    for (auto& t : nearby) t += 1e-4;
    // The largest ‖∇Φ_s‖ at the warm start, to set a tolerance the warm start meets.
    LowerObjective& objective = f.problem->objective();
    OwnedVec g = f.grid->create_vec();
    PetscReal g0 = 0;
    for (auto& s : f.problem->samples()) {
      objective.set_data(s.data);
      objective.value_and_gradient(s.x_hat, nearby, g);
      PetscReal norm;
      BILEARN_CHECK(VecNorm(g, NORM_2, &norm));
      g0 = std::max(g0, norm);
    }
    ASSERT_GT(g0, 0);
    f.problem->lower_solver().set_gradient_tolerance(2 * g0);
    // Moved from θ: the bilevel problem requires progress.
    EvaluationStats moved;
    f.problem->reconstruct(nearby, moved);
    EXPECT_GE(moved.lower_iterations, 2) << "batch " << batch << ": every sample takes a Newton step";
    // Again at the same θ: x̂ is the solution there, nothing to do.
    EvaluationStats again;
    f.problem->reconstruct(nearby, again);
    EXPECT_EQ(again.lower_iterations, 0) << "batch " << batch;
    // The solver alone (one sample), asked for progress once: ‖∇Φ‖ falls to a tenth; the next
    // solve does nothing.
    if (std::string(batch) == "false") {
      LowerSolver& solver = f.problem->lower_solver();
      auto& s = f.problem->samples().front();
      objective.set_data(s.data);
      std::vector<PetscReal> further = nearby;
      for (auto& t : further) t += 1e-4;
      objective.value_and_gradient(s.x_hat, further, g);
      PetscReal start;
      BILEARN_CHECK(VecNorm(g, NORM_2, &start));
      solver.set_gradient_tolerance(2 * start);
      solver.require_progress(0.1);
      const LowerSolveResult r = solver.solve(s.x_hat, further);
      EXPECT_GE(r.iterations, 1);
      EXPECT_LE(r.gradient_norm, 0.1 * start);
      EXPECT_EQ(solver.solve(s.x_hat, further).iterations, 0);
    }
  }
}

// diag(AᵀA) + ε, built from A's CSR arrays (the off-diagonal block's column sums sent to their
// owners), equals e_jᵀ (AᵀA + εI) e_j column by column on any rank count.
TEST(LowerObjective, DataHessianDiagonalMatchesUnitProducts) {
  for (const char* problem : {"tomo", "blur"}) {
    ScopedOptions o(std::vector<std::pair<std::string, std::string>>{
        {"-problem", problem}, {"-tomo_angles", "20"}, {"-reg_type", "tv"}});
    Fixture f(PETSC_COMM_WORLD, 10, 1, 1e-3);
    LowerObjective& objective = f.problem->objective();
    OwnedVec diag = f.grid->create_vec(), unit = f.grid->create_vec(), column = f.grid->create_vec();
    objective.data_hessian_diagonal(diag);
    PetscInt n, lo, hi;
    BILEARN_CHECK(VecGetSize(unit, &n));
    BILEARN_CHECK(VecGetOwnershipRange(unit, &lo, &hi));
    double worst = 0, largest = 0;
    for (PetscInt j = 0; j < n; ++j) {
      BILEARN_CHECK(VecSet(unit, 0.0));
      if (j >= lo && j < hi) BILEARN_CHECK(VecSetValue(unit, j, 1.0, INSERT_VALUES));
      BILEARN_CHECK(VecAssemblyBegin(unit));
      BILEARN_CHECK(VecAssemblyEnd(unit));
      objective.data_hessian_mult(unit, column);
      PetscScalar hjj = 0, dj = 0;
      if (j >= lo && j < hi) {
        BILEARN_CHECK(VecGetValues(column, 1, &j, &hjj));
        BILEARN_CHECK(VecGetValues(diag, 1, &j, &dj));
      }
      worst = std::max(worst, std::abs(PetscRealPart(hjj - dj)));
      largest = std::max(largest, std::abs(PetscRealPart(hjj)));
    }
    worst = max_over_ranks(PETSC_COMM_WORLD, worst);
    largest = max_over_ranks(PETSC_COMM_WORLD, largest);
    EXPECT_GT(largest, 0.0) << problem;
    EXPECT_LT(worst, 1e-12 * largest) << problem;
  }
}

namespace {

const std::vector<std::pair<std::string, std::string>> kWarmStartProblem = {
    {"-problem", "tomo"},         {"-tomo_angles", "24"},    {"-reg_type", "foe"},
    {"-reg_foe_filters", "dct3"}, {"-reg_foe_expert", "l1"}, {"-hyper_ksp_rtol", "1e-10"}};

}  // namespace

// The first Armijo trial of a long gradient step moves the log10 weights by several units: the
// previous w is then a far worse start than zero, and PETSc's divergence test (residual ≥
// dtol·‖b‖ for a nonzero guess) stopped the solve with DIVERGED_DTOL after 0 iterations (a 2-sample
// foe tomography training run, N = 64, 60 angles, failed at its first trial step). Such a start
// gives way to zero; a good one is still used.
TEST(Hypergradient, WarmStartWorseThanZeroGivesWayToAColdStart) {
  ScopedOptions o(kWarmStartProblem);
  Fixture f(PETSC_COMM_WORLD, 16, 2, 1e-3);
  const std::vector<PetscReal> theta = f.reg->initial_theta();
  auto estimator = create_implicit_estimator();
  const UpperEvaluation cold = estimator->evaluate(*f.problem, theta, true);
  // The solution scaled by 10^6: ‖b − H w₀‖ ≈ 10^6 ‖b‖, beyond PETSc's default dtol 10^4.
  for (auto& s : f.problem->samples()) BILEARN_CHECK(VecScale(s.adjoint, 1e6));
  UpperEvaluation far;
  try {
    far = estimator->evaluate(*f.problem, theta, true);
  } catch (const NumericalError& e) {
    ADD_FAILURE() << e.what();
  }
  EXPECT_LT(relative_difference(far.gradient, cold.gradient), 1e-7);
  // An exact warm start is kept: (almost) no iterations.
  const UpperEvaluation warm = estimator->evaluate(*f.problem, theta, true);
  EXPECT_LT(relative_difference(warm.gradient, cold.gradient), 1e-7);
  EXPECT_LT(warm.stats.krylov_iterations, cold.stats.krylov_iterations / 4);
}

// A warm-started solve that diverges is solved again from zero: a convergence test that declares
// every solve from a nonzero guess diverged stands in for a divergence only the warm start meets.
TEST(Hypergradient, DivergedWarmStartedSolveIsRetriedFromZero) {
  ScopedOptions o(kWarmStartProblem);
  Fixture f(PETSC_COMM_WORLD, 16, 1, 1e-3);
  const std::vector<PetscReal> theta = f.reg->initial_theta();
  create_implicit_estimator()->evaluate(*f.problem, theta, true);
  SampleState& s = f.problem->samples().front();
  LowerObjective& objective = f.problem->objective();
  objective.set_point(s.x_hat, theta);
  OwnedVec b = f.grid->create_vec(), w = f.grid->create_vec();
  BILEARN_CHECK(VecWAXPY(b, -1.0, s.truth, s.x_hat));
  BILEARN_CHECK(VecCopy(s.adjoint, w));
  BILEARN_CHECK(VecScale(w, 0.5));  // ‖b − H w‖ ≈ ½‖b‖: a start better than zero
  OwnedKSP ksp;
  create_hypergradient_ksp(f.grid->comm(), objective, ksp.out());
  void* context = nullptr;
  BILEARN_CHECK(KSPConvergedDefaultCreate(&context));
  auto diverge_when_warm = [](KSP k, PetscInt it, PetscReal rnorm, KSPConvergedReason* reason,
                              void* ctx) -> PetscErrorCode {
    PetscBool nonzero;
    PetscCall(KSPGetInitialGuessNonzero(k, &nonzero));
    if (nonzero && it == 1) {
      *reason = KSP_DIVERGED_DTOL;
      return 0;
    }
    return KSPConvergedDefault(k, it, rnorm, reason, ctx);
  };
  BILEARN_CHECK(KSPSetConvergenceTest(ksp, diverge_when_warm, context, KSPConvergedDefaultDestroy));
  const HypergradientSolve solve = solve_hypergradient_system(ksp, b, w);
  EXPECT_FALSE(solve.warm_start_dropped);
  EXPECT_TRUE(solve.cold_retry);
  KSPConvergedReason reason;
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
  EXPECT_GT(reason, 0) << KSPConvergedReasons[reason];
  BILEARN_CHECK(VecAXPY(w, -1.0, s.adjoint));
  PetscReal diff, norm;
  BILEARN_CHECK(VecNorm(w, NORM_2, &diff));
  BILEARN_CHECK(VecNorm(s.adjoint, NORM_2, &norm));
  EXPECT_LT(diff, 1e-6 * norm);
  PetscBool nonzero;
  BILEARN_CHECK(KSPGetInitialGuessNonzero(ksp, &nonzero));
  EXPECT_TRUE(nonzero) << "the KSP's warm-start setting was not restored";
}

// The cost counter of bench hypergrad's training comparison: every product with A or Aᵀ is
// counted once (value 1, gradient 2, H or F product 2, the data scale 1 and then cached), a
// product with the regulariser Hessian alone not at all.
TEST(LowerObjective, CountsOperatorApplications) {
  ScopedOptions o(std::vector<std::pair<std::string, std::string>>{
      {"-problem", "tomo"}, {"-tomo_angles", "20"}, {"-reg_type", "tv"}});
  Fixture f(PETSC_COMM_WORLD, 10, 1, 1e-3);
  LowerObjective& objective = f.problem->objective();
  const std::vector<PetscReal> theta = f.reg->initial_theta();
  OwnedVec x = f.grid->create_vec(), y = f.grid->create_vec();
  BILEARN_CHECK(VecCopy(f.truth[0], x));
  objective.set_data(f.data[0]);
  objective.set_point(x, theta);
  PetscInt count = objective.operator_applications();
  const auto added = [&] {
    const PetscInt now = objective.operator_applications(), delta = now - count;
    count = now;
    return delta;
  };
  objective.value(x, theta);
  EXPECT_EQ(added(), 1);
  objective.value_and_gradient(x, theta, y);
  EXPECT_EQ(added(), 2);
  objective.hessian_mult(x, y);
  EXPECT_EQ(added(), 2);
  BILEARN_CHECK(MatMult(objective.hessian(), x, y));
  EXPECT_EQ(added(), 2);
  objective.data_hessian_mult(x, y);
  EXPECT_EQ(added(), 2);
  objective.reg_hessian_mult(x, y);
  EXPECT_EQ(added(), 0);
  OwnedVec fresh;  // data the objective has not seen: its scale is computed once, then cached
  BILEARN_CHECK(VecDuplicate(f.data[0], fresh.out()));
  BILEARN_CHECK(VecCopy(f.data[0], fresh));
  objective.set_data(fresh);
  objective.data_gradient_norm();
  EXPECT_EQ(added(), 1);
  objective.data_gradient_norm();
  EXPECT_EQ(added(), 0);
}
