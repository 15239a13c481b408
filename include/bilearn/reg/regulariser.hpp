// Regularisers R_θ(x) on the image grid (ALGORITHMS.md §1). All weights are log10-scaled
// in θ. Chosen by -reg_type, θ set by -reg_theta; one file per regulariser in src/reg/.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bilearn/core/image_grid.hpp"

namespace bilearn {

class Regulariser {
 public:
  virtual ~Regulariser() = default;
  virtual std::string name() const = 0;

  // Hyperparameters θ (length p). set_theta throws InputError on a wrong length.
  virtual PetscInt num_params() const = 0;
  virtual std::vector<std::string> param_names() const = 0;  // what each θ entry means
  virtual void set_theta(const std::vector<PetscReal>& theta) = 0;
  virtual const std::vector<PetscReal>& theta() const = 0;

  // At a point x (grid global vector). All collective.
  virtual PetscReal value(Vec x) = 0;
  virtual void gradient(Vec x, Vec g) = 0;  // g = ∇_x R_θ(x), overwritten
  // ∂_θ R_θ(x), length p.
  virtual std::vector<PetscReal> theta_gradient(Vec x) = 0;

  // Linearise at x for the products below; call again after x or θ changes.
  virtual void set_point(Vec x) = 0;
  virtual void hessian_mult(Vec v, Vec y) = 0;  // y = ∇²_xx R_θ(x) v, overwritten
  virtual void hessian_diagonal(Vec d) = 0;     // d = diag ∇²_xx R_θ(x), overwritten
  // Mixed derivative J_R = ∂_θ ∇_x R_θ(x) (p × n): row i is ∂/∂θ_i of ∇_x R_θ(x).
  virtual void mixed_mult(Vec v, std::vector<PetscReal>& Jv) = 0;                 // Jv = J_R v (length p)
  virtual void mixed_mult_transpose(const std::vector<PetscReal>& w, Vec y) = 0;  // y = J_Rᵀ w, overwritten
};

// Reads -reg_type and the type's options (-reg_theta, -reg_*) and builds the regulariser.
std::unique_ptr<Regulariser> create_regulariser(const ImageGrid& grid);

}  // namespace bilearn
