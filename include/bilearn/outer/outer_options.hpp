// Options of the outer loop (prefix -outer_), read once through OptionsBlock so that they
// all appear in -help. Tests may also fill the struct directly.
#pragma once
#include <petscsys.h>

#include <string>
#include <vector>

namespace bilearn {

struct OuterOptions {
  std::string type = "gd";    // gd | adam | lbfgs | fuse
  std::string ls = "armijo";  // gd only: armijo | inexact | none (L-BFGS always backtracks with
                              // ls_c/ls_rho/ls_max_backtracks; Adam takes no line search)
  PetscInt max_it = 50;       // total outer iterations (a resumed run counts the earlier ones)
  PetscReal gtol = 1e-8;      // stop when the (projected) gradient norm is ≤ gtol

  // Step sizes and Armijo backtracking: accept when L(θ⁺) ≤ L(θ) − c gᵀ(θ − θ⁺), which is
  // L(θ) − c α‖g‖² without bounds (gd); L-BFGS uses L(θ) + c gᵀ(θ⁺ − θ) along its direction.
  PetscReal step = 1.0;  // initial (gd armijo/inexact, first lbfgs step) or fixed (ls none) α
  // A step without curvature information (the first gd step, an L-BFGS step with empty memory)
  // moves θ by at most this (0: no cap): L, and with it ‖∇L‖, grows with the pixel count.
  PetscReal first_step_norm = 1.0;
  PetscReal ls_c = 1e-2;
  PetscReal ls_rho = 0.4;     // α ← ρα on failure
  PetscReal ls_growth = 1.2;  // α ← min(γα, α_max) after acceptance (gd)
  PetscReal ls_max_step = 1e6;
  PetscInt ls_max_backtracks = 20;

  // Inexact Armijo (MAID): accuracy ε tightened on failure, loosened after success.
  PetscReal inexact_eps0 = 0.1;
  PetscReal inexact_c = 1e-4;
  PetscReal inexact_rho = 0.5;
  PetscReal inexact_nu = 1.05;      // ε ← min(ν ε, ε₀) after success
  PetscReal inexact_tighten = 0.5;  // ε ← max(ν_ε ε, ε_min) on failure
  PetscReal inexact_eps_min = 1e-10;

  // Adam (optionally on mini-batches).
  PetscReal adam_lr = 1e-2;
  PetscReal adam_beta1 = 0.9;
  PetscReal adam_beta2 = 0.999;
  PetscReal adam_eps = 1e-8;
  PetscInt batch_size = 0;  // 0 or ≥ S: full batch
  PetscInt seed = 1;

  // L-BFGS.
  PetscInt lbfgs_m = 10;

  // FUSE switch (Adam → L-BFGS) and fall-back.
  PetscInt fuse_switch_it = 10;
  PetscReal fuse_gtol = 0;  // 0: criterion off
  PetscReal fuse_ftol = 1e-3;
  PetscInt fuse_window = 5;
  PetscInt fuse_max_failures = 2;

  // Box bounds (1 value for all components, or p values); empty = unbounded.
  std::vector<PetscReal> theta_min, theta_max;

  // Adaptive accuracy: tol = clamp(κ‖∇L(θ_k)‖, tol_min, tol_max) for both the lower-level and
  // the Krylov tolerance (the first evaluation uses tol_max). Off: the problem's own tolerances.
  // On by default: on tomography N = 64, S = 4, foe, 30 Armijo steps it halves the Krylov
  // iterations (2197 against 4462) and cuts the Newton steps to 0.71x and the operator
  // products to 0.55x, with the final upper loss equal to 6e-6 relative (docs/algorithms.md §5).
  // tol_max 1e-2 (1e-3 before stop 30): on tomography, foe, S = 4, 2 ranks, Krylov iterations
  // 0.76x (N = 64, 30 steps), 0.65x (N = 128, 20 steps), 0.70x (N = 256, 8 steps), Newton steps
  // 0.85x, 0.81x, 0.92x, final upper losses equal to 7e-6, 1e-4, 2e-6 relative (algorithms.md §5).
  bool adaptive_tol = true;
  PetscReal tol_kappa = 0.1;
  PetscReal tol_min = 1e-8;
  PetscReal tol_max = 1e-2;
  // The lower level's absolute gradient tolerance as a multiple of the adaptive tolerance (stop 30):
  // 10 against 1 took the Newton steps to 0.78x (N = 64), 0.77x (N = 128), 0.81x (N = 256) with
  // the final upper losses equal to 1e-5-9e-5 relative. A solve from an x̂ of another θ always
  // reduces ‖∇Φ‖ tenfold (LowerSolver::require_progress): without that, at N = 16 warm starts
  // met the loose tolerance after small steps in θ, x̂ stayed, and Armijo saw no decrease.
  PetscReal tol_lower_scale = 10;

  // Checkpoints: every k accepted steps (0: only at the end of the run and on a signal).
  PetscInt checkpoint_every = 1;
  PetscInt checkpoint_keep = 2;

  bool progress = true;  // progress line on rank 0
  // auto: one live \r line when stdout is a terminal. Open MPI's mpiexec gives every rank a
  // pseudo-terminal as stdout even when its own output goes to a file, so under it (detected
  // by OMPI_COMM_WORLD_SIZE) auto means one line per step; yes/no force the choice.
  std::string progress_live = "auto";
  // A line for every evaluation of L (trial points included) that takes at least this many
  // seconds (0: every evaluation; negative: none): at N = 512 one outer step takes minutes.
  PetscReal progress_evaluation_seconds = 30;
  // history.png is redrawn after a step only when this many seconds have passed since the last
  // drawing (0: after every step); always at the start and at the end of a run. history.csv
  // gets every step at once. Drawing takes 20-30 ms on rank 0 while the others wait: at
  // N = 64 that was 7 % of a run.
  PetscReal history_plot_seconds = 10;
};

// Reads every -outer_* option (collective; InputError names a bad option).
OuterOptions read_outer_options(MPI_Comm comm);

}  // namespace bilearn
