// The upper-level problem as the outer optimisers see it (docs/algorithms.md §5):
//   L(θ) = (1/|B|) Σ_{s∈B} ℓ_s(x̂_s(θ)),   B = all samples or a mini-batch,
// evaluated, with its hypergradient ∇L(θ), to a requested accuracy. The outer layer knows
// nothing else of the physics: the real implementation (lower-level solves + implicit
// hypergradient over samples) and the analytic test functions both implement this class.
//
// Collective semantics: every member function is collective over the communicator the
// trainer runs on and must be called identically on all ranks. The trainer broadcasts the
// rank-0 Evaluation to all ranks after each call, so every decision (accept/reject, stop)
// is taken identically everywhere even if the ranks' copies differ by round-off.
#pragma once
#include <petscsys.h>

#include <string>
#include <vector>

namespace bilearn {

// How accurately one evaluation must be done. A tolerance of 0 means "use the problem's own
// configured tolerance" (e.g. -lower_tao_gatol, -hyper_ksp_rtol).
struct Accuracy {
  // The evaluation's tolerance (the policy's, or the caller's), from which the two below derive.
  PetscReal tolerance = 0;
  // Absolute tolerance on ‖∇_x Φ_s(x̃_s, θ)‖ for every lower-level solve: -outer_tol_lower_scale
  // times `tolerance`.
  PetscReal lower_tol = 0;
  // Tolerance of the Krylov solve H w = g (the hypergradient linear system). The error of the
  // hypergradient is bounded by C (‖∇_xΦ‖ + ‖H w̃ − g‖) (docs/algorithms.md §2), so the inexact line
  // search passes its accuracy ε as both tolerances.
  PetscReal krylov_tol = 0;
  // Global indices of the samples to average over (a mini-batch), sorted ascending; empty
  // means all num_samples() samples.
  std::vector<PetscInt> samples;
};

// Result of one evaluation (identical on all ranks after the trainer's broadcast).
struct Evaluation {
  PetscReal loss = 0;               // L̃(θ), the (mini-batch) mean upper loss
  std::vector<PetscReal> gradient;  // ∇L̃(θ), length dim(); empty unless requested
  PetscInt krylov_iterations = 0;   // summed over samples (and sample groups)
  PetscInt lower_iterations = 0;    // summed over samples (and sample groups)
  // Estimated bound on |L̃(θ) − L(θ)| at the accuracy used; negative = unknown. The inexact
  // Armijo test uses it when known and ε‖∇L̃‖ (docs/algorithms.md §5) otherwise.
  PetscReal error_bound = -1;
};

class UpperProblem {
 public:
  virtual ~UpperProblem() = default;

  // Number of hyperparameters p.
  virtual PetscInt dim() const = 0;

  // Number of training samples S (mini-batches are subsets of 0..S−1).
  virtual PetscInt num_samples() const { return 1; }

  // L̃(θ) and, if need_gradient, ∇L̃(θ), to the accuracy acc. Collective. May (and should)
  // update internal warm starts: every call — trial points of a line search included — may
  // leave the problem's warm starts at the point it evaluated. A non-finite loss is allowed
  // (a line search treats it as a failed trial); exceptions abort the run.
  virtual Evaluation evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc) = 0;

  // θ has been accepted as the new outer iterate; the last evaluate() call was at this θ with
  // need_gradient = true. Warm starts may be pinned here, so that later trial evaluations
  // (which may move them) can restart from the accepted point. Default: nothing.
  virtual void accept(const std::vector<PetscReal>& /*theta*/) {}

  // Checkpointing: write / read the per-sample state that makes later evaluations depend on
  // history (warm starts x̂_s and w_s, recycle spaces) into / from the existing directory dir.
  // Collective. save_state is called right after accept() of the checkpointed iterate;
  // load_state must restore exactly that state (a resumed run must reproduce the
  // uninterrupted one bit for bit), and accept() is not called again after it. Files written
  // here are covered by the checkpoint's checksums; they must be complete when save_state
  // returns on every rank. A file that cannot be written (full disk) must be an exception on
  // every rank alike, never on some ranks only (the checkpoint writer then removes the partial
  // checkpoint and stops the run with one error line). Default: stateless problem, nothing to save.
  virtual void save_state(const std::string& /*dir*/) {}
  virtual void load_state(const std::string& /*dir*/) {}
};

}  // namespace bilearn
