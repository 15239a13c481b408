// The lower-level objective of one training sample (docs/algorithms.md §1–2):
//   Φ(x, θ) = ½‖A x − y‖² + R_θ(x) + (ε/2)‖x‖²
//   ∇_x Φ   = Aᵀ(A x − y) + ∇_x R_θ(x) + ε x
//   H       = ∇²_xx Φ = AᵀA + ∇²_xx R_θ(x) + ε I       (a MatShell, never formed)
//   J       = ∂_θ ∇_x Φ = ∂_θ ∇_x R_θ(x)                (the data term does not depend on θ)
// θ is an argument: value and gradient take (x, θ), and set_point(x, θ) fixes the point of
// the products with H and J. The regulariser is shared by all samples and holds no θ a
// caller must set first; products use the (x, θ) given to set_point() last.
#pragma once
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/lower_problem.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "bilearn/reg/regulariser.hpp"

namespace bilearn {

class LowerObjective : public LowerProblem {
 public:
  // model, reg and data must outlive this object. epsilon ≥ 0.
  LowerObjective(const ImageGrid& grid, const ForwardModel& model, Regulariser& reg, PetscReal epsilon);
  LowerObjective(const LowerObjective&) = delete;
  LowerObjective& operator=(const LowerObjective&) = delete;

  void set_data(Vec y) noexcept { data_ = y; }  // the sample's measured data (borrowed)
  // ‖Aᵀy‖ = ‖∇_x Φ(0, θ)‖ for any θ (every expert is even and R_θ'(0) = 0): the scale of the
  // gradient, against which the lower solve's relative tolerance is measured. One product
  // with Aᵀ the first time a data vector (or a changed one) is seen; cached after that.
  PetscReal data_gradient_norm() override;
  PetscReal epsilon() const noexcept { return epsilon_; }
  Regulariser& regulariser() noexcept { return reg_; }
  const Regulariser& regulariser() const noexcept override { return reg_; }
  MPI_Comm comm() const override { return grid_.comm(); }
  void share_hessian_structure(KSP ksp) override;
  const ImageGrid& grid() const noexcept { return grid_; }
  const ForwardModel& model() const noexcept { return model_; }

  PetscReal value(Vec x, const std::vector<PetscReal>& theta);
  PetscReal value_and_gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) override;  // returns Φ, g = ∇_x Φ

  // Linearisation point (x, θ) of H and J (x is referenced, not copied: keep it alive, unchanged).
  void set_point(Vec x, const std::vector<PetscReal>& theta) override;
  bool begin_dual_newton() override { return reg_.begin_dual_newton(); }
  void end_dual_newton() override { reg_.end_dual_newton(); }
  Mat hessian() const noexcept override { return hessian_; }  // MatShell: MatMult, MatGetDiagonal
  void hessian_mult(Vec v, Vec y);                            // y = H v
  void hessian_diagonal(Vec d);
  // The split H = F + R_t used by the recycling KSP types (docs/algorithms.md §4.2, "cheaper C"):
  // F = AᵀA + εI never changes (its object state never increases), R_t = ∇²_xx R_θ(x) is the
  // regulariser Hessian at the current point (its state increases with set_point).
  Mat data_hessian() const noexcept { return data_hessian_; }
  Mat reg_hessian() const noexcept { return reg_hessian_; }
  void data_hessian_mult(Vec v, Vec y);  // y = (AᵀA + εI) v
  void data_hessian_diagonal(Vec d);     // d = diag(AᵀA) + ε
  void reg_hessian_mult(Vec v, Vec y);   // y = ∇²_xx R_θ(x) v
  void mixed_mult(Vec v, std::vector<PetscReal>& Jv) { reg_.mixed_mult(v, Jv); }
  // J v into p = num_params() numbers (no allocation after the first call).
  void mixed_mult(Vec v, PetscReal* Jv);
  void mixed_mult_transpose(const std::vector<PetscReal>& w, Vec y) { reg_.mixed_mult_transpose(w, y); }

  PetscInt hessian_products() const noexcept override { return hessian_products_; }
  PetscInt data_hessian_products() const noexcept { return data_products_; }
  PetscInt reg_hessian_products() const noexcept { return reg_products_; }
  PetscInt mixed_products() const noexcept { return mixed_products_; }
  // Products with A or Aᵀ so far (value 1, value_and_gradient 2, a product with H or F 2,
  // data_gradient_norm 1 when not cached): the cost unit of tomography, where A dominates.
  // Half of it is the cost in "H-equivalent" products, whatever mix of gradients and Hessian
  // products an estimator uses.
  PetscInt operator_applications() const noexcept { return operator_applications_; }

 private:
  const ImageGrid& grid_;
  const ForwardModel& model_;
  Regulariser& reg_;
  PetscReal epsilon_;
  Vec data_ = nullptr;
  struct ScaleCache {
    PetscObjectId id;
    PetscObjectState state;
    PetscReal norm;
  };
  std::vector<ScaleCache> scales_;  // ‖Aᵀy‖ per data vector seen
  OwnedVec residual_;               // data-sized work vector
  OwnedVec work_;                   // image-sized work vector
  OwnedVec diag_ata_;               // diag(AᵀA), computed once
  OwnedMat hessian_;
  OwnedMat data_hessian_;
  OwnedMat reg_hessian_;
  std::vector<PetscReal> jv_;
  PetscInt hessian_products_ = 0;
  PetscInt data_products_ = 0;
  PetscInt reg_products_ = 0;
  PetscInt mixed_products_ = 0;
  PetscInt operator_applications_ = 0;
};

}  // namespace bilearn
