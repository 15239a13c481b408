// What the lower-level solver (lower_solver.hpp) and its cold start (cold_start.hpp) need of
// the objective Φ(x, θ): value and gradient, the Hessian at a point, the scale of the stopping
// test, and the structure handed to the Newton KSP. Implemented by LowerObjective (one sample)
// and by BatchedLowerObjective (the samples of a group stacked into one vector, solved in
// lockstep with one block product of A per Hessian product; docs/algorithms.md §4.7).
#pragma once
#include <petscksp.h>
#include <petsctao.h>

#include <vector>

#include "bilearn/reg/regulariser.hpp"

namespace bilearn {

class LowerProblem {
 public:
  virtual ~LowerProblem() = default;
  virtual MPI_Comm comm() const = 0;
  // The regulariser's configuration (θ layout, names): check_theta, param_names.
  virtual const Regulariser& regulariser() const = 0;
  virtual PetscReal value_and_gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) = 0;  // Φ, g = ∇_x Φ
  // Linearisation point (x, θ) of hessian() (x is referenced, not copied).
  virtual void set_point(Vec x, const std::vector<PetscReal>& theta) = 0;
  virtual Mat hessian() const = 0;  // a MatShell of x's layout
  // ‖Aᵀy‖, the scale of the relative stopping test (a batch: the smallest over its samples, so
  // that each sample meets its own test).
  virtual PetscReal data_gradient_norm() = 0;
  virtual PetscInt hessian_products() const = 0;  // products with hessian() so far (a batch: per sample)
  // Hands the Hessian's structure to the Newton KSP (hessian_structure.hpp).
  virtual void share_hessian_structure(KSP ksp) = 0;
  // Sets up the Newton method's line search when the problem has one of its own (a batch: one
  // step length per sample); the default leaves TAO's.
  virtual void share_line_search(TaoLineSearch) {}
  // Primal–dual Newton on the regulariser(s) (Regulariser::begin_dual_newton) for the products
  // with hessian() until end; begin returns whether any regulariser has the form.
  virtual bool begin_dual_newton() = 0;
  virtual void end_dual_newton() = 0;
  // Samples stacked in x (a batch: B equal blocks, each rank's part block after block); 1 otherwise.
  virtual PetscInt blocks() const { return 1; }
};

}  // namespace bilearn
