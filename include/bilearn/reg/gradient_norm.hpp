// Regularisers of the image gradient norm, R(x) = w Σ_i ψ(q_i), q_i = ‖(∇x)_i‖²:
//   tikhonov (gradient)  ψ(q) = q/2                          θ = [log10 w]
//   tv (smoothed)        ψ(q) = √(q + γ²)                    θ = [log10 w (, log10 γ)]
//   huber_tv             ψ(q) = h_γ(√q): q/(2γ) for √q ≤ γ, √q − γ/2 otherwise
// ∇x: forward differences with Neumann boundary, (∇x)_i = (x(i+1,j) − x(i,j), x(i,j+1) − x(i,j))
// with a zero component at the last column / row. γ is in image units (images in [0, 1]).
//
// With a = 2ψ'(q), b = 4ψ''(q) and g_i = (∇x)_i (chain rule on q = ‖g‖²):
//   ∇R = w Dᵀ(a g),   ∇²R v = w Dᵀ(M Dv) with the 2×2 blocks M_i = a_i I + b_i g_i g_iᵀ,
//   ∂R/∂(log10 w) = ln10 R,   ∂R/∂(log10 γ) = ln10 γ w Σ ∂ψ/∂γ,
//   row log10 γ of J: ln10 γ w Dᵀ((∂a/∂γ) g).
// huber_tv: ψ'' jumps at ‖g_i‖ = γ (the Hessian is piecewise smooth), so finite-difference
// checks of the Hessian and of the γ-derivatives need points with no ‖g_i‖ near γ.
//
// Dᵀ at an owned pixel needs M D v one column/row to the low side: it is recomputed there
// from the ghosted v (ghost width 1 suffices), so each product costs one ghost exchange.
#pragma once
#include <string>
#include <vector>

#include "bilearn/reg/reg_base.hpp"
#include "bilearn/reg/stencil.hpp"

namespace bilearn {

enum class GradientPenalty { quadratic, tv, huber };

class GradientNormRegulariser : public RegulariserBase {
 public:
  // name: "tikhonov", "tv" or "huber_tv" (messages and summaries).
  GradientNormRegulariser(const ImageGrid& grid, std::string name, GradientPenalty penalty);
  // -reg_tv_gamma, -reg_tv_learn_gamma (tv and huber_tv; the quadratic penalty has no γ).
  void set_from_options(OptionsBlock& options) override;
  void set_up() override;

  std::string name() const override { return name_; }
  std::vector<std::string> param_names() const override;
  std::string theta_requirement() const override;
  std::string theta_summary() const override;

 protected:
  std::vector<std::string> view_lines() const override;
  PetscReal value_at(Vec x) override;
  void gradient_at(Vec x, Vec g) override;
  std::vector<PetscReal> theta_gradient_at(Vec x) override;
  void set_point_at(Vec x) override;
  void hessian_mult_at(Vec v, Vec y) override;
  void hessian_diagonal_at(Vec d) override;
  void mixed_mult_at(Vec v, std::vector<PetscReal>& Jv) override;
  void mixed_mult_transpose_at(const std::vector<PetscReal>& w, Vec y) override;
  void on_theta_changed() override;
  // Primal–dual Newton for tv (docs/algorithms.md §4.8): u_i ≈ g_i/ψ_i, and the Hessian blocks
  // M_i = (I − sym(u_i g_iᵀ)/ψ_i)/ψ_i (Chan, Golub & Mulet's symmetrised system).
  bool begin_dual_newton() override;
  void end_dual_newton() override;

 private:
  struct Penalty {
    PetscReal psi, a, b, psi_g, a_g;  // ψ, 2ψ', 4ψ'', ∂ψ/∂γ, ∂(2ψ')/∂γ
  };
  Penalty penalty(PetscReal q) const noexcept;
  // Forward differences of the ghosted x at (i, j) (zero component at the last column/row).
  void differences(const DMDARead2D& x, PetscInt i, PetscInt j, PetscReal& g0, PetscReal& g1) const noexcept;
  // y = Σ_d D_dᵀ p_d for the owned pixels, p on the extended block (overwrites y).
  void adjoint_differences(Vec y) const;
  // y = Dᵀ((c0 a + c1 ∂a/∂γ) D x) with a, ∂a/∂γ of the penalty at x (x ghosted, local form):
  // the gradient (c0 = w, c1 = 0) and Jᵀω share it.
  void weighted_adjoint(Vec x_local, PetscReal c0, PetscReal c1, Vec y) const;
  void linearise();
  void advance_dual();  // moves u along the step from the last point to point_ (set_point)
  PetscInt ext(PetscInt i, PetscInt j) const noexcept { return (j - ey0_) * enx_ + (i - ex0_); }

  const ImageGrid& grid_;
  std::string name_;
  GradientPenalty penalty_;
  bool learn_gamma_ = false;
  PetscReal w_ = 1, gamma_ = 1e-2;  // γ: -reg_tv_gamma, or 10^θ_2 when learnt
  PetscReal configured_gamma_ = 1e-2;
  // Extended block: the owned block plus one column/row on the low side (inside the image).
  PetscInt ex0_, ey0_, enx_, eny_;
  GhostedVec point_, work_;  // linearisation point; argument of the current call
  bool have_point_ = false, linearised_ = false;
  std::vector<PetscReal> m00_, m01_, m11_;  // w·M on the extended block, at the point
  mutable std::vector<PetscReal> p0_, p1_;  // the field Dᵀ is applied to
  // Primal–dual Newton, on the extended block: u and g = (∇x) at the last point.
  bool dual_newton_ = false, have_dual_ = false;
  std::vector<PetscReal> u0_, u1_, g0_, g1_;
};

}  // namespace bilearn
