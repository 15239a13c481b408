// The lower-level solve x̂(θ) = argmin_x Φ(x, θ) with TAO (options prefix -lower_; default
// Newton–Krylov `nls`, stopped at ‖∇_x Φ‖ ≤ max(gatol 1e-8, 1e-10·‖Aᵀy‖)), warm started from
// the vector passed in.
// One Tao object serves all samples (TAO resets its internal state at every TaoSolve).
// Newton systems (docs/algorithms.md §2, §4.5): CG preconditioned by PC circulant unless
// -lower_tao_<type>_ksp_type / _pc_type say otherwise, with Eisenstat–Walker forcing
// (-lower_forcing ew: choice 2, never below -lower_forcing_min) or a fixed relative tolerance
// (-lower_forcing fixed).
#pragma once
#include <petsctao.h>

#include <cmath>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/lower_problem.hpp"

namespace bilearn {

struct LowerSolveResult {
  PetscInt iterations = 0;
  PetscInt hessian_products = 0;
  PetscReal gradient_norm = 0;
  TaoConvergedReason reason = TAO_CONTINUE_ITERATING;
};

class LowerSolver {
 public:
  explicit LowerSolver(LowerProblem& objective);
  LowerSolver(const LowerSolver&) = delete;
  LowerSolver& operator=(const LowerSolver&) = delete;

  // Minimises Φ(·, θ) for the data given to the objective; x is the warm start on entry
  // and the minimiser on return. Throws NumericalError (with TAO's reason) if TAO fails.
  LowerSolveResult solve(Vec x, const std::vector<PetscReal>& theta);
  // θ of the solve in progress (read by the TAO callbacks).
  const std::vector<PetscReal>& theta() const noexcept { return theta_; }

  // Absolute tolerance on ‖∇_x Φ‖ (the outer loop may adapt it); 0 restores the configured
  // one (-lower_tao_gatol). A solve stops at ‖∇_x Φ‖ ≤ max(gatol, -lower_gradient_rtol·‖Aᵀy‖).
  void set_gradient_tolerance(PetscReal gatol);
  PetscReal gradient_tolerance() const noexcept { return gatol_; }
  // The next solve (only that one) must also take ‖∇_x Φ‖ (each sample's, in a batch) to
  // `factor` times its value at the warm start. For a caller whose x was solved at another θ: with
  // a loose tolerance a warm start can meet it already after a small change of θ, and x̂ would
  // then not follow θ at all (an outer line search would see the same loss at every trial).
  void require_progress(PetscReal factor) noexcept { progress_factor_ = factor; }
  Tao tao() const noexcept { return tao_; }
  // The Newton systems' KSP (null for TAO types without one) and whether it is a recycling
  // type (rminres/rcg), whose space can be seeded with KSPRecycleCopySpace before a solve.
  KSP newton_ksp() const;
  bool recycling() const noexcept { return recycling_; }
  LowerProblem& objective() noexcept { return objective_; }

 private:
  void choose_default_solvers();
  void preset_from_options();
  void use_default_pc_unless_chosen();

 public:
  // Called with every new Hessian: sets the Newton system's relative tolerance (forcing term).
  void begin_newton_step();
  // A batch: every sample's ‖∇Φ_s‖ at the current iterate is within the tolerance (one reduction).
  bool blocks_converged();
  // Eisenstat–Walker choice 2 with its safeguards, the floor and no oversolving (the step need
  // not take ‖∇Φ‖ far below tolerance).
  PetscReal forcing_term(PetscReal gnorm, PetscReal previous_gnorm, PetscReal previous_eta, PetscReal tolerance) const;
  // A batch solved by lockstepcg: one forcing term per sample; false when that does not apply.
  bool set_block_forcing(KSP ksp);
  // Called with every objective value (plus the gradient's norm): a non-finite Φ or ∇Φ (weights so
  // large that R_θ overflows, e.g. a long trial step of the outer line search) makes the solve fail
  // with a NumericalError, which a line search treats as a rejected trial, instead of TAO's PETSc
  // error.
  void note_objective(PetscReal f) noexcept { nonfinite_ = nonfinite_ || !std::isfinite(f); }

 private:
  LowerProblem& objective_;
  std::vector<PetscReal> theta_;  // of the solve in progress
  // Eisenstat–Walker choice 2: η_k = γ (‖g_k‖/‖g_{k−1}‖)^α, safeguarded (EW 1996).
  bool ew_forcing_ = true;
  bool dual_newton_ = true;  // -lower_newton primal_dual (docs/algorithms.md §4.8)
  PetscReal ew_gamma_ = 0.9, ew_alpha_ = 2.0, ew_max_ = 0.9, ew_min_ = 0.1;
  PetscReal first_rtol_ = 1e-2;  // η_0 (and the fixed forcing term): -lower_tao_<type>_ksp_rtol
  PetscReal previous_gnorm_ = -1, previous_eta_ = 0;
  // A batch: the same per sample (its own forcing term from its own ‖∇Φ_s‖, KSP lockstepcg).
  std::vector<PetscReal> block_gnorm_, block_previous_gnorm_, block_previous_eta_;
  OwnedTao tao_;
  PetscReal gatol_ = 1e-8;
  PetscReal configured_gatol_ = 1e-8;
  PetscReal gradient_rtol_ = 1e-10;  // -lower_gradient_rtol, relative to ‖Aᵀy‖
  PetscReal tolerance_ = 1e-8;       // of the solve in progress: max(gatol_, gradient_rtol_·‖Aᵀy‖)
  // Where the solve in progress stops, per sample (one entry unless a batch): tolerance_, or
  // lower where require_progress asks for it.
  std::vector<PetscReal> stop_at_;
  PetscReal progress_factor_ = 0;  // require_progress for the next solve (0: none)
  OwnedVec gradient_work_;         // ∇Φ at the warm start (require_progress)
  void set_stopping_tolerances(Vec x, PetscReal tightest);
  bool recycling_ = false;
  bool nonfinite_ = false;  // a non-finite Φ in the solve in progress
};

}  // namespace bilearn
