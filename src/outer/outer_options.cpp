#include "bilearn/outer/outer_options.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/outer/optimizer.hpp"

namespace bilearn {

OuterOptions read_outer_options(MPI_Comm comm) {
  OuterOptions o;
  OptionsBlock b(comm, "outer_", "Outer loop (bilevel training)");
  o.type = b.choice("-type", "outer optimiser", optimizer_registry().names(), o.type);
  o.ls = b.choice("-ls", "line search of gd", {"armijo", "inexact", "none"}, o.ls);
  o.max_it = b.integer("-max_it", "maximum number of outer iterations", o.max_it, 0);
  o.gtol = b.real("-gtol", "stop when the (projected) hypergradient norm is <= gtol", o.gtol, 0, PETSC_INFINITY);

  o.step = b.real("-step", "initial step size (fixed step with -outer_ls none)", o.step, 0, PETSC_INFINITY);
  o.first_step_norm = b.real("-first_step_norm",
                             "a step without curvature information (the first gd step, an L-BFGS step with empty "
                             "memory) moves theta by at most this: alpha = min(step, this/|grad L|) (0: no cap)",
                             o.first_step_norm, 0, PETSC_INFINITY);
  o.ls_c = b.real("-ls_c", "Armijo sufficient-decrease constant c", o.ls_c, 0, 1);
  o.ls_rho = b.real("-ls_rho", "Armijo backtracking factor rho (alpha <- rho alpha)", o.ls_rho, 0, 1);
  o.ls_growth = b.real("-ls_growth", "step growth gamma after an accepted step", o.ls_growth, 1, PETSC_INFINITY);
  o.ls_max_step = b.real("-ls_max_step", "largest step size alpha_max", o.ls_max_step, 0, PETSC_INFINITY);
  o.ls_max_backtracks = b.integer("-ls_max_backtracks", "maximum backtracks per step", o.ls_max_backtracks, 0);

  o.inexact_eps0 =
      b.real("-inexact_eps0", "inexact Armijo: initial accuracy epsilon_0", o.inexact_eps0, 0, PETSC_INFINITY);
  o.inexact_c = b.real("-inexact_c", "inexact Armijo: sufficient-decrease constant", o.inexact_c, 0, 1);
  o.inexact_rho = b.real("-inexact_rho", "inexact Armijo: backtracking factor", o.inexact_rho, 0, 1);
  o.inexact_nu =
      b.real("-inexact_nu", "inexact Armijo: accuracy loosening factor after success", o.inexact_nu, 1, PETSC_INFINITY);
  o.inexact_tighten =
      b.real("-inexact_tighten", "inexact Armijo: accuracy tightening factor on failure", o.inexact_tighten, 0, 1);
  o.inexact_eps_min =
      b.real("-inexact_eps_min", "inexact Armijo: smallest accuracy", o.inexact_eps_min, 0, PETSC_INFINITY);

  o.adam_lr = b.real("-adam_lr", "Adam learning rate", o.adam_lr, 0, PETSC_INFINITY);
  o.adam_beta1 = b.real("-adam_beta1", "Adam beta1", o.adam_beta1, 0, 1);
  o.adam_beta2 = b.real("-adam_beta2", "Adam beta2", o.adam_beta2, 0, 1);
  o.adam_eps = b.real("-adam_eps", "Adam epsilon", o.adam_eps, 0, PETSC_INFINITY);
  o.batch_size = b.integer("-batch_size", "Adam mini-batch size in samples (0: all)", o.batch_size, 0);
  o.seed = b.integer("-seed", "seed of the mini-batch draws", o.seed, 0);

  o.lbfgs_m = b.integer("-lbfgs_m", "L-BFGS memory (number of pairs)", o.lbfgs_m, 1);

  o.fuse_switch_it = b.integer("-fuse_switch_it", "FUSE: switch to L-BFGS at this iteration", o.fuse_switch_it, 0);
  o.fuse_gtol =
      b.real("-fuse_gtol", "FUSE: switch when the gradient norm is <= this (0: off)", o.fuse_gtol, 0, PETSC_INFINITY);
  o.fuse_ftol = b.real("-fuse_ftol", "FUSE: switch when the relative change of L over the window is <= this",
                       o.fuse_ftol, 0, PETSC_INFINITY);
  o.fuse_window = b.integer("-fuse_window", "FUSE: window (iterations) of the plateau test", o.fuse_window, 1);
  o.fuse_max_failures =
      b.integer("-fuse_max_failures", "FUSE: back to Adam after this many consecutive L-BFGS line-search failures",
                o.fuse_max_failures, 1);

  o.theta_min = b.reals("-theta_min", "lower bounds on theta (one value or one per parameter)", {});
  o.theta_max = b.reals("-theta_max", "upper bounds on theta (one value or one per parameter)", {});

  o.adaptive_tol =
      b.flag("-adaptive_tol", "lower-level and Krylov tolerances follow the outer progress", o.adaptive_tol);
  o.tol_kappa = b.real("-tol_kappa", "adaptive tolerance = clamp(kappa |grad L|, tol_min, tol_max)", o.tol_kappa, 0,
                       PETSC_INFINITY);
  o.tol_min = b.real("-tol_min", "smallest adaptive tolerance", o.tol_min, 0, PETSC_INFINITY);
  o.tol_max = b.real("-tol_max", "largest adaptive tolerance", o.tol_max, 0, PETSC_INFINITY);
  require(o.tol_min <= o.tol_max, "-outer_tol_min must be <= -outer_tol_max");
  o.tol_lower_scale = b.real("-tol_lower_scale",
                             "the lower level's gradient tolerance (absolute) is this multiple of the evaluation's "
                             "tolerance, the Krylov tolerance (relative) the tolerance itself",
                             o.tol_lower_scale, 1e-6, 1e6);

  o.checkpoint_every =
      b.integer("-checkpoint_every", "checkpoint every k outer steps (0: only at the end)", o.checkpoint_every, 0);
  o.checkpoint_keep = b.integer("-checkpoint_keep", "number of checkpoints kept", o.checkpoint_keep, 1);
  o.progress = b.flag("-progress", "print a progress line per outer step", o.progress);
  o.progress_live =
      b.choice("-progress_live", "progress as one live line on a terminal", {"auto", "yes", "no"}, o.progress_live);
  o.progress_evaluation_seconds =
      b.real("-progress_evaluations",
             "also a line for each evaluation of the upper problem (trial points included) that takes at least this "
             "many seconds (0: every evaluation; negative: none)",
             o.progress_evaluation_seconds, -PETSC_INFINITY, PETSC_INFINITY);
  o.history_plot_seconds =
      b.real("-history_plot_seconds",
             "redraw history.png during training at most every this many seconds (0: every step; always at the end)",
             o.history_plot_seconds, 0, PETSC_INFINITY);
  b.view_option("-view", "print the configured outer optimiser and loop");
  return o;
}

}  // namespace bilearn
