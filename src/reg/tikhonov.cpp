// tikhonov: R(x) = (w/2)‖L x‖², θ = [log10 w], L = I (here) or the forward-difference
// gradient (GradientNormRegulariser with ψ(q) = q/2).
#include <cmath>
#include <memory>

#include "bilearn/core/error.hpp"
#include "bilearn/reg/factories.hpp"
#include "bilearn/reg/gradient_norm.hpp"

namespace bilearn {
namespace {

class IdentityTikhonov : public RegulariserBase {
 public:
  IdentityTikhonov() { set_up(); }
  void set_up() override {
    theta_ = {-2.0};
    on_theta_changed();
  }
  std::string name() const override { return "tikhonov"; }
  std::vector<std::string> param_names() const override { return {"log10 w"}; }
  std::string theta_requirement() const override { return "tikhonov needs 1: log10 w"; }
  std::string theta_summary() const override { return "log10 w"; }

  std::vector<std::string> view_lines() const override { return {"L = identity"}; }
  PetscReal value_at(Vec x) override {
    PetscReal nrm = 0;
    BILEARN_CHECK(VecNorm(x, NORM_2, &nrm));
    return 0.5 * w_ * nrm * nrm;
  }
  void gradient_at(Vec x, Vec g) override {
    BILEARN_CHECK(VecCopy(x, g));
    BILEARN_CHECK(VecScale(g, w_));
  }
  std::vector<PetscReal> theta_gradient_at(Vec x) override { return {kLn10 * value_at(x)}; }
  void set_point_at(Vec x) override {
    if (!point_) BILEARN_CHECK(VecDuplicate(x, point_.out()));
    BILEARN_CHECK(VecCopy(x, point_));
  }
  void hessian_mult_at(Vec v, Vec y) override {
    BILEARN_CHECK(VecCopy(v, y));
    BILEARN_CHECK(VecScale(y, w_));
  }
  void hessian_diagonal_at(Vec d) override { BILEARN_CHECK(VecSet(d, w_)); }
  // J = ln10 w xᵀ (one row).
  void mixed_mult_at(Vec v, std::vector<PetscReal>& Jv) override {
    require_point();
    PetscScalar dot = 0;
    BILEARN_CHECK(VecDot(point_, v, &dot));
    Jv.assign(1, kLn10 * w_ * dot);
  }
  void mixed_mult_transpose_at(const std::vector<PetscReal>& omega, Vec y) override {
    require_point();
    require(omega.size() == 1, "tikhonov: Jᵀw needs 1 value, got " + std::to_string(omega.size()));
    BILEARN_CHECK(VecCopy(point_, y));
    BILEARN_CHECK(VecScale(y, kLn10 * w_ * omega[0]));
  }

 protected:
  void on_theta_changed() override { w_ = std::pow(10.0, theta_[0]); }

 private:
  void require_point() const {
    if (!point_) throw std::logic_error("tikhonov: set_point must be called before mixed products");
  }
  PetscReal w_ = 1;
  OwnedVec point_;
};

// The registered type: -reg_tikhonov_operator picks L, set_up builds the matching kernel, to
// which every evaluation is handed on with its θ.
class Tikhonov : public RegulariserBase {
 public:
  explicit Tikhonov(const ImageGrid& grid) : grid_(grid) { set_up(); }
  std::string name() const override { return "tikhonov"; }
  std::vector<std::string> param_names() const override { return {"log10 w"}; }
  std::string theta_requirement() const override { return "tikhonov needs 1: log10 w"; }
  std::string theta_summary() const override { return "log10 w"; }

  void set_from_options(OptionsBlock& options) override {
    op_ = options.choice("-tikhonov_operator", "L in (w/2)‖L x‖²: identity or forward-difference gradient",
                         {"identity", "gradient"}, op_);
  }
  void set_up() override {
    if (op_ == "identity")
      kernel_ = std::make_unique<IdentityTikhonov>();
    else
      kernel_ = std::make_unique<GradientNormRegulariser>(grid_, "tikhonov", GradientPenalty::quadratic);
    theta_ = {-2.0};
  }

 protected:
  std::vector<std::string> view_lines() const override {
    return {op_ == "identity" ? "L = identity" : "L = forward-difference gradient"};
  }
  PetscReal value_at(Vec x) override { return kernel_->value(x, theta_); }
  void gradient_at(Vec x, Vec g) override { kernel_->gradient(x, theta_, g); }
  std::vector<PetscReal> theta_gradient_at(Vec x) override { return kernel_->theta_gradient(x, theta_); }
  void set_point_at(Vec x) override { kernel_->set_point(x, theta_); }
  void hessian_mult_at(Vec v, Vec y) override { kernel_->hessian_mult(v, y); }
  void hessian_diagonal_at(Vec d) override { kernel_->hessian_diagonal(d); }
  void mixed_mult_at(Vec v, std::vector<PetscReal>& Jv) override { kernel_->mixed_mult(v, Jv); }
  void mixed_mult_transpose_at(const std::vector<PetscReal>& w, Vec y) override { kernel_->mixed_mult_transpose(w, y); }
  void on_theta_changed() override {}

 private:
  const ImageGrid& grid_;
  std::string op_ = "identity";
  std::unique_ptr<RegulariserBase> kernel_;
};

}  // namespace

std::unique_ptr<RegulariserBase> create_tikhonov(const ImageGrid& grid) {
  return std::make_unique<Tikhonov>(grid);
}

}  // namespace bilearn
