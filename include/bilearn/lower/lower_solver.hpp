// The lower-level solve x̂(θ) = argmin_x Φ(x, θ) with TAO (options prefix -lower_; default
// Newton–Krylov `nls`, gatol 1e-8 on ‖∇_x Φ‖), warm started from the vector passed in.
// One Tao object serves all samples (TAO resets its internal state at every TaoSolve).
#pragma once
#include <petsctao.h>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

struct LowerSolveResult {
  PetscInt iterations = 0;
  PetscInt hessian_products = 0;
  PetscReal gradient_norm = 0;
  TaoConvergedReason reason = TAO_CONTINUE_ITERATING;
};

class LowerSolver {
 public:
  explicit LowerSolver(LowerObjective& objective);
  LowerSolver(const LowerSolver&) = delete;
  LowerSolver& operator=(const LowerSolver&) = delete;

  // Minimises Φ(·, θ) for the data given to the objective; x is the warm start on entry
  // and the minimiser on return. Throws NumericalError (with TAO's reason) if TAO fails.
  LowerSolveResult solve(Vec x);

  // Absolute tolerance on ‖∇_x Φ‖ (the outer loop may adapt it); 0 restores the configured
  // one (-lower_tao_gatol).
  void set_gradient_tolerance(PetscReal gatol);
  PetscReal gradient_tolerance() const noexcept { return gatol_; }
  Tao tao() const noexcept { return tao_; }
  // The Newton systems' KSP (null for TAO types without one) and whether it is a recycling
  // type (rminres/rcg), whose space can be seeded with KSPRecycleCopySpace before a solve.
  KSP newton_ksp() const;
  bool recycling() const noexcept { return recycling_; }

 private:
  void use_jacobi_unless_chosen();
  LowerObjective& objective_;
  OwnedTao tao_;
  PetscReal gatol_ = 1e-8;
  PetscReal configured_gatol_ = 1e-8;
  bool recycling_ = false;
};

}  // namespace bilearn
