// tikhonov: R(x) = (w/2)‖L x‖², θ = [log10 w], L = I (here) or the forward-difference
// gradient (GradientNormRegulariser with ψ(q) = q/2).
#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/reg/factories.hpp"
#include "bilearn/reg/gradient_norm.hpp"

namespace bilearn {
namespace {

class IdentityTikhonov : public RegulariserBase {
 public:
  explicit IdentityTikhonov(PetscReal log10_w) {
    theta_ = {log10_w};
    on_theta_changed();
  }
  std::string name() const override { return "tikhonov"; }
  std::vector<std::string> param_names() const override { return {"log10 w"}; }
  std::string theta_requirement() const override { return "tikhonov needs 1: log10 w"; }
  std::string theta_summary() const override { return "log10 w"; }

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

}  // namespace

std::unique_ptr<RegulariserBase> make_tikhonov(const ImageGrid& grid, OptionsBlock& options) {
  const std::string op =
      options.choice("-tikhonov_operator", "L in (w/2)‖L x‖²: identity or forward-difference gradient",
                     {"identity", "gradient"}, "identity");
  const PetscReal log10_w = -2.0;
  if (op == "identity") return std::make_unique<IdentityTikhonov>(log10_w);
  return std::make_unique<GradientNormRegulariser>(grid, "tikhonov", GradientPenalty::quadratic, log10_w, 1.0, false);
}

}  // namespace bilearn
