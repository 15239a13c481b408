// Regularisers R_θ(x) on the image grid (docs/algorithms.md §1). All weights are log10-scaled
// in θ. Chosen by -reg_type, the initial θ set by -reg_theta; one file per regulariser in
// src/reg/ and one line in src/reg/create_regulariser.cpp.
//
// θ is an argument of every evaluation, never state a caller has to set first: value,
// gradient and ∂_θR take (x, θ), and set_point(x, θ) fixes the linearisation point of the
// Hessian and mixed products. One regulariser can therefore serve every sample of a group
// (and any θ a line search tries) without anyone parking θ in it.
#pragma once
#include <petscviewer.h>

#include <memory>
#include <string>
#include <vector>

#include "bilearn/core/image_grid.hpp"

namespace bilearn {

class Regulariser {
 public:
  virtual ~Regulariser() = default;
  virtual std::string name() const = 0;

  // Hyperparameters θ (length p).
  virtual PetscInt num_params() const = 0;
  virtual std::vector<std::string> param_names() const = 0;  // what each θ entry means
  // The θ configured by -reg_theta (or the type's default): the outer loop's starting point.
  virtual const std::vector<PetscReal>& initial_theta() const = 0;
  // InputError on a wrong length, NumericalError on a non-finite entry.
  virtual void check_theta(const std::vector<PetscReal>& theta) const = 0;
  // What was configured (type, its options, θ layout and initial θ): -reg_view.
  virtual void view(PetscViewer viewer) const = 0;

  // At a point x (grid global vector) and θ. All collective.
  virtual PetscReal value(Vec x, const std::vector<PetscReal>& theta) = 0;
  virtual void gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) = 0;  // g = ∇_x R_θ(x)
  // ∂_θ R_θ(x), length p.
  virtual std::vector<PetscReal> theta_gradient(Vec x, const std::vector<PetscReal>& theta) = 0;

  // Linearise at (x, θ) for the products below; call again after x or θ changes.
  virtual void set_point(Vec x, const std::vector<PetscReal>& theta) = 0;
  virtual void hessian_mult(Vec v, Vec y) = 0;  // y = ∇²_xx R_θ(x) v, overwritten
  virtual void hessian_diagonal(Vec d) = 0;     // d = diag ∇²_xx R_θ(x), overwritten
  // Mixed derivative J_R = ∂_θ ∇_x R_θ(x) (p × n): row i is ∂/∂θ_i of ∇_x R_θ(x).
  virtual void mixed_mult(Vec v, std::vector<PetscReal>& Jv) = 0;                 // Jv = J_R v (length p)
  virtual void mixed_mult_transpose(const std::vector<PetscReal>& w, Vec y) = 0;  // y = J_Rᵀ w, overwritten

  // Primal–dual Newton (docs/algorithms.md §4.8; Chan, Golub & Mulet 1999). Between begin and
  // end, each set_point advances a dual variable u ≈ φ'(C x) along the step taken since the
  // previous set_point, and Hessian products (and the diagonal) use the curvature of the
  // linearised dual equation, (1 − u t/ψ(t))/ψ(t), in place of φ''(t); the first set_point
  // sets u = φ'(C x), so the first Newton system is the plain one. Mixed products, value and
  // gradient are never changed, and after end every product is the true Hessian's again.
  // begin returns false (and changes nothing) when the regulariser has no such form.
  virtual bool begin_dual_newton() { return false; }
  virtual void end_dual_newton() {}
};

// Reads -reg_type and the type's options (-reg_theta, -reg_*) and builds the regulariser
// (the type from the registry, src/reg/create_regulariser.cpp). view: print it with -reg_view
// (false for further instances of a regulariser already viewed, e.g. one per sample of a batch).
std::unique_ptr<Regulariser> create_regulariser(const ImageGrid& grid, bool view = true);

}  // namespace bilearn
