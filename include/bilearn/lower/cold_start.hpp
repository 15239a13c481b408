// Cold start of a lower-level solve by continuation in θ (docs/algorithms.md §4.5, "Lower level,
// cold solves"): from x = 0 Newton's first steps at the target weights crawl (tomography
// N = 256, foe: residual near 10 for eight steps); at stronger weights θ + δ the problem is
// better conditioned and its minimiser is a good start. So a solve from x = 0 first minimises
// Φ(·, θ + δ) (δ added to the log10 weights only) loosely, to ‖∇Φ‖ ≤ rtol·‖∇Φ(0)‖, then goes on
// at θ from there.
//   -lower_continuation δ        shift of the log10 weights (default 0.5; 0 switches it off)
//   -lower_continuation_rtol r   relative gradient tolerance of that first stage (1e-3)
#pragma once
#include <vector>

#include "bilearn/lower/lower_solver.hpp"

namespace bilearn {

class ColdStart {
 public:
  explicit ColdStart(MPI_Comm comm);  // reads the options above
  bool enabled() const noexcept { return shift_ > 0; }

  // When x = 0 (and the cold start is enabled), runs the continuation stage on x with the
  // solver's objective and returns its counters; otherwise leaves x alone and returns zeros.
  // The solver is left at its gradient tolerance. work: a Vec like x.
  LowerSolveResult prepare(LowerSolver& solver, const std::vector<PetscReal>& theta, Vec x, Vec work) const;

 private:
  PetscReal shift_ = 0.5;
  PetscReal rtol_ = 1e-3;
};

}  // namespace bilearn
