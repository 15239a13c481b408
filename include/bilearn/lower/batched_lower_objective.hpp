// The lower-level objectives of B samples of one group as one problem on a stacked vector
// X = (x_1, …, x_B) (docs/algorithms.md §4.7):
//   Φ(X, θ) = Σ_s Φ_s(x_s, θ),   ∇Φ = (∇Φ_1, …, ∇Φ_B),   H = blockdiag(H_1, …, H_B).
// The samples share A, so every product with the data term reads A (and the stored Aᵀ) once
// for all B samples: the blocks are interlaced into one vector and multiplied by
// MatCreateMAIJ(A, B), which at N = 64–256 costs 0.38–0.54 of B single products
// (`bench operator`, docs/scaling.md §2). The regulariser part and the circulant
// preconditioner act block by block through each sample's own LowerObjective (one
// Regulariser instance per sample: each holds its own linearisation point).
//
// Layout: each rank's part of X holds its part of x_1, then of x_2, …; block s of X has the
// grid's layout. One TAO/KSP on X solves all B samples in lockstep (same Newton steps, one
// line search); stopping when ‖∇Φ‖ ≤ min_s tol_s meets each sample's own test.
#pragma once
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

class BatchedLowerObjective : public LowerProblem {
 public:
  // samples: the per-sample objectives (borrowed; each with its own Regulariser instance and
  // the same grid, model and ε), at least one.
  explicit BatchedLowerObjective(const std::vector<LowerObjective*>& samples);
  BatchedLowerObjective(const BatchedLowerObjective&) = delete;
  BatchedLowerObjective& operator=(const BatchedLowerObjective&) = delete;

  PetscInt blocks() const noexcept override { return static_cast<PetscInt>(samples_.size()); }
  OwnedVec create_vec() const;  // a stacked vector
  // Sets the samples' data (borrowed, one per block) and interlaces them for the block product.
  void set_data(const std::vector<Vec>& data);
  // Copies between the stacked vector and per-sample grid vectors.
  void gather(const std::vector<Vec>& parts, Vec stacked) const;
  void scatter(Vec stacked, const std::vector<Vec>& parts) const;

  // LowerProblem
  MPI_Comm comm() const override { return samples_.front()->comm(); }
  const Regulariser& regulariser() const override { return samples_.front()->regulariser(); }
  PetscReal value_and_gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) override;
  void set_point(Vec x, const std::vector<PetscReal>& theta) override;
  bool begin_dual_newton() override;
  void end_dual_newton() override;
  Mat hessian() const override { return hessian_; }
  PetscReal data_gradient_norm() override;
  PetscInt hessian_products() const override { return hessian_products_; }
  void share_hessian_structure(KSP ksp) override;

  // The products behind the MatShells (stacked vectors).
  void hessian_mult(Vec v, Vec y);       // y = H v
  void hessian_diagonal(Vec d);          // d = diag H
  void data_hessian_mult(Vec v, Vec y);  // y = (AᵀA + εI) v, block by block
  void reg_hessian_mult(Vec v, Vec y);   // y = blockdiag(∇²R(x_s)) v
  // Σ_s J_s w_s (length p) at the point of set_point: the samples' mixed products summed.
  void mixed_mult_sum(Vec w, std::vector<PetscReal>& jw);
  // Products with A or Aᵀ so far, counted per sample (a block product of b columns counts b).
  PetscInt operator_applications() const noexcept { return operator_applications_; }
  // Which blocks the Hessian products compute (KSP lockstepcg's protocol, ksp_lockstep_cg.h):
  // an inactive block's output is zero and costs nothing; the active ones share one block
  // product of A with as many columns as there are active blocks. NULL: every block.
  void set_active_blocks(const PetscBool active[]);
  // Φ_s of every block at the point of the last value_and_gradient (their sum is its value).
  const std::vector<PetscReal>& block_values() const noexcept { return block_values_; }
  // The lower-level line search: one Armijo step length per sample (TaoLineSearch blockarmijo).
  void share_line_search(TaoLineSearch ls) override;

 private:
  // y_int = A_B x (interlaced), then out = Aᵀ_B y_int de-interlaced into stacked out; with
  // data, the residual A x − y is formed in between (and left in data_int_).
  void normal_product(Vec x, Vec out, bool subtract_data);
  // out = AᵀA x on the active blocks only (zero on the others), through MAIJ(A, b), b of them.
  void active_normal_product(Vec x, Vec out);
  // MAIJ(A, b) and MAIJ(Aᵀ, b) with work vectors placed on the B-column arrays; made when first used.
  struct BlockProduct {
    OwnedMat a, at;
    OwnedVec image, data;  // array-less headers of b·(image, data) local entries
  };
  BlockProduct& block_product(PetscInt columns);

  std::vector<LowerObjective*> samples_;
  PetscInt local_ = 0;  // this rank's entries of one block
  PetscReal epsilon_ = 0;
  OwnedMat block_a_;       // MAIJ(A, B)
  OwnedMat block_at_;      // MAIJ(Aᵀ, B) when Aᵀ is stored, else null (MAIJ's own transpose)
  OwnedVec image_int_;     // interlaced image-sized work (B·local entries)
  OwnedVec data_int_;      // interlaced data-sized work
  OwnedVec measured_int_;  // the samples' data, interlaced
  OwnedVec work_;          // stacked work vector
  // Views: one grid-layout Vec per block, placed on a stacked vector's array while in use.
  std::vector<OwnedVec> in_views_, out_views_;
  OwnedMat hessian_, data_hessian_, reg_hessian_;
  PetscInt hessian_products_ = 0;
  PetscInt operator_applications_ = 0;
  std::vector<PetscReal> jw_;            // one sample's J w
  std::vector<PetscReal> block_values_;  // Φ_s at the last value_and_gradient
  std::vector<char> active_;             // blocks the Hessian products compute (all unless lockstepcg says otherwise)
  std::vector<BlockProduct> fewer_columns_;  // [b − 1]: products of b columns while some blocks are frozen
  friend class PlacedBlocks;
};

}  // namespace bilearn
