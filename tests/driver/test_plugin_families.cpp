// One registry and one life cycle per plug-in family: a test-only member registered in each
// family (regulariser, forward model, hypergradient estimator, outer optimiser) is created by
// name through the same path the program uses (-reg_type, -problem, -hyper_method,
// -outer_type), goes through set_from_options → set_up, and its view prints what was
// configured. Unknown and doubly registered names are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/bilevel_problem.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/outer/optimizer.hpp"
#include "bilearn/outer/outer_options.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/reg/factories.hpp"
#include "test_support.hpp"

namespace {

using namespace bilearn;
using bilearn_test::contains;

using bilearn_test::ScopedOptions;

// R(x) = (s·10^θ/2)‖x‖² with s = -reg_test_norm_scale (a type option read in set_from_options).
class ScaledNorm : public RegulariserBase {
 public:
  std::string name() const override { return "test_norm"; }
  std::vector<std::string> param_names() const override { return {"log10 w"}; }
  std::string theta_requirement() const override { return "test_norm needs 1: log10 w"; }
  std::string theta_summary() const override { return "log10 w"; }
  void set_from_options(OptionsBlock& options) override {
    scale_ = options.real("-test_norm_scale", "scale s of the test regulariser", scale_, 0, PETSC_INFINITY);
  }
  void set_up() override {
    theta_ = {0.0};
    on_theta_changed();
  }

 protected:
  std::vector<std::string> view_lines() const override { return {"scale = " + std::to_string(scale_)}; }
  PetscReal value_at(Vec x) override {
    PetscReal norm;
    BILEARN_CHECK(VecNorm(x, NORM_2, &norm));
    return 0.5 * w_ * norm * norm;
  }
  void gradient_at(Vec x, Vec g) override {
    BILEARN_CHECK(VecCopy(x, g));
    BILEARN_CHECK(VecScale(g, w_));
  }
  std::vector<PetscReal> theta_gradient_at(Vec x) override { return {kLn10 * value_at(x)}; }
  void set_point_at(Vec x) override { point_ = x; }
  void hessian_mult_at(Vec v, Vec y) override {
    BILEARN_CHECK(VecCopy(v, y));
    BILEARN_CHECK(VecScale(y, w_));
  }
  void hessian_diagonal_at(Vec d) override { BILEARN_CHECK(VecSet(d, w_)); }
  void mixed_mult_at(Vec v, std::vector<PetscReal>& Jv) override {
    PetscScalar dot;
    BILEARN_CHECK(VecDot(point_, v, &dot));
    Jv.assign(1, kLn10 * w_ * dot);
  }
  void mixed_mult_transpose_at(const std::vector<PetscReal>& w, Vec y) override {
    BILEARN_CHECK(VecCopy(point_, y));
    BILEARN_CHECK(VecScale(y, kLn10 * w_ * w[0]));
  }
  void on_theta_changed() override { w_ = scale_ * std::pow(10.0, theta_[0]); }

 private:
  PetscReal scale_ = 1, w_ = 1;
  Vec point_ = nullptr;
};

// An estimator that only reconstructs and reports a zero hypergradient.
class ZeroEstimator : public HypergradientEstimator {
 public:
  std::string name() const override { return "test_zero"; }
  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation e;
    e.loss = problem.reconstruct(theta, e.stats);
    if (need_gradient) e.gradient.assign(theta.size(), 0.0);
    return e;
  }
};

// An optimiser that never moves.
class StandStill : public Optimizer {
 public:
  std::string name() const override { return "test_still"; }
  StepOutcome step(Oracle&, PetscInt) override { return {}; }
  nlohmann::json save() const override { return nlohmann::json::object(); }
  void load(const nlohmann::json&) override {}
};

// The registration lines a new member needs (once per process).
void register_test_members() {
  static bool done = false;
  if (done) return;
  done = true;
  regulariser_registry().add("test_norm", [](const ImageGrid&) { return std::make_unique<ScaledNorm>(); });
  forward_model_registry().add("test_denoise", [](const ImageGrid& grid) {
    ForwardModel m = create_identity_model(grid);
    m.name = "test denoise";
    return m;
  });
  estimator_registry().add("test_zero", [] { return std::make_unique<ZeroEstimator>(); });
  optimizer_registry().add("test_still", [](const OuterOptions&, PetscInt) { return std::make_unique<StandStill>(); });
}

// What view prints into a file (read back on every rank).
template <class View>
std::string viewed(const std::string& path, View&& view) {
  PetscViewer viewer;
  BILEARN_CHECK(PetscViewerASCIIOpen(PETSC_COMM_WORLD, path.c_str(), &viewer));
  view(viewer);
  BILEARN_CHECK(PetscViewerDestroy(&viewer));
  MPI_Barrier(PETSC_COMM_WORLD);
  return bilearn_test::read_file(path);
}

class PluginFamilies : public bilearn_test::ScratchDirTest {
 protected:
  PluginFamilies() : ScratchDirTest("plugins") {}
  void SetUp() override {
    ScratchDirTest::SetUp();
    register_test_members();
  }
};

TEST_F(PluginFamilies, TestMembersAreListedAndCreatedByName) {
  for (const auto& names : {regulariser_registry().names(), forward_model_registry().names(),
                            estimator_registry().names(), optimizer_registry().names()}) {
    ASSERT_FALSE(names.empty());
    EXPECT_TRUE(contains(names.back(), "test_")) << names.back();
  }
  EXPECT_TRUE(regulariser_registry().has("foe"));
  EXPECT_TRUE(contains(optimizer_registry().list(), "gd, adam, lbfgs, fuse, test_still"));

  ScopedOptions o({{"-problem", "test_denoise"},
                   {"-reg_type", "test_norm"},
                   {"-reg_test_norm_scale", "2"},
                   {"-reg_theta", "-1"},
                   {"-hyper_method", "test_zero"}});
  const ProblemOptions problem = read_problem_options(PETSC_COMM_WORLD);
  ImageGrid grid(PETSC_COMM_WORLD, 8);
  ForwardModel model = create_forward_model(grid, problem);
  EXPECT_EQ(model.name, "test denoise");
  std::unique_ptr<Regulariser> reg = create_regulariser(grid);
  EXPECT_EQ(reg->name(), "test_norm");
  ASSERT_EQ(reg->initial_theta().size(), 1u);
  EXPECT_EQ(reg->initial_theta()[0], -1.0);

  // θ is an argument: one object, two θ, no state in between (w = s·10^θ with s = 2).
  OwnedVec x = grid.create_vec();
  BILEARN_CHECK(VecSet(x, 1.0));
  const PetscReal n2 = 64;
  EXPECT_NEAR(reg->value(x, {0.0}), 0.5 * 2 * n2, 1e-12);
  EXPECT_NEAR(reg->value(x, {1.0}), 0.5 * 20 * n2, 1e-10);
  EXPECT_NEAR(reg->value(x, {0.0}), 0.5 * 2 * n2, 1e-12);

  // The test members together: a bilevel problem evaluated by the test estimator.
  std::unique_ptr<HypergradientEstimator> estimator = create_estimator(PETSC_COMM_WORLD);
  EXPECT_EQ(estimator->name(), "test_zero");
  OwnedVec truth = grid.create_vec(), data = grid.create_vec();
  BILEARN_CHECK(VecSet(truth, 0.5));
  BILEARN_CHECK(VecSet(data, 0.5));
  BilevelProblem bilevel(grid, model, *reg, 1e-4, {truth.get()}, {data.get()}, {0}, 1);
  const UpperEvaluation e = estimator->evaluate(bilevel, reg->initial_theta(), true);
  // Denoising with R = (w/2)‖x‖², w = 0.2: x̂ = y/(1 + w + ε).
  const PetscReal x_hat = 0.5 / (1 + 0.2 + 1e-4);
  EXPECT_NEAR(e.loss, 0.5 * n2 * (x_hat - 0.5) * (x_hat - 0.5), 1e-8);
  EXPECT_EQ(e.gradient, std::vector<PetscReal>{0.0});

  OuterOptions outer;
  outer.type = "test_still";
  EXPECT_EQ(create_optimizer(outer, 1)->name(), "test_still");
}

TEST_F(PluginFamilies, ViewsPrintWhatWasConfigured) {
  ScopedOptions o({{"-reg_type", "test_norm"},
                   {"-reg_test_norm_scale", "3"},
                   {"-hyper_method", "fd"},
                   {"-hyper_fd_step", "0.001"}});
  ImageGrid grid(PETSC_COMM_WORLD, 8);
  std::unique_ptr<Regulariser> reg = create_regulariser(grid);
  const std::string r = viewed(path("reg.txt"), [&](PetscViewer v) { reg->view(v); });
  EXPECT_TRUE(contains(r, "Regulariser: test_norm")) << r;
  EXPECT_TRUE(contains(r, "scale = 3")) << r;
  EXPECT_TRUE(contains(r, "initial theta: 0")) << r;
  std::unique_ptr<HypergradientEstimator> estimator = create_estimator(PETSC_COMM_WORLD);
  const std::string h = viewed(path("hyper.txt"), [&](PetscViewer v) { estimator->view(v); });
  EXPECT_TRUE(contains(h, "Hypergradient estimator: fd")) << h;
  EXPECT_TRUE(contains(h, "step 0.001")) << h;
  OuterOptions outer;
  const std::string g = viewed(path("outer.txt"), [&](PetscViewer v) { create_optimizer(outer, 1)->view(v); });
  EXPECT_TRUE(contains(g, "Outer optimiser: gd")) << g;
}

TEST_F(PluginFamilies, UnknownAndDuplicateNamesAreErrors) {
  ImageGrid grid(PETSC_COMM_WORLD, 12);
  try {
    forward_model_registry().create("nonesuch", grid);
    ADD_FAILURE() << "unknown forward model created";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(),
                         "unknown forward model 'nonesuch' (choose one of tomo, blur, inpaint, denoise, "
                         "matrix, test_denoise)"))
        << e.what();
  }
  {
    ScopedOptions o({{"-reg_type", "nonesuch"}, {"-reg_theta", "0"}});
    try {
      create_regulariser(grid);
      ADD_FAILURE() << "unknown regulariser created";
    } catch (const InputError& e) {
      EXPECT_TRUE(contains(e.what(), "tikhonov, tv, huber_tv, foe, test_norm")) << e.what();
    }
  }
  EXPECT_THROW(estimator_registry().add("implicit", [] { return create_implicit_estimator(); }), std::logic_error);
}

}  // namespace
