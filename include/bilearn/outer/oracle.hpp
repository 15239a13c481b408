// The optimisers' access to the upper problem: evaluations broadcast from rank 0 (so every
// rank takes the same decisions), projection onto the box bounds, the accuracy policy, the
// current iterate and the per-step counters the history rows report.
#pragma once
#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "bilearn/outer/outer_options.hpp"
#include "bilearn/outer/upper_problem.hpp"

namespace bilearn {

// The current outer iterate and what is known there (gradient always present).
struct Point {
  std::vector<PetscReal> theta;
  Evaluation eval;
  std::vector<PetscInt> samples;  // mini-batch the evaluation used (empty: all samples)
  PetscReal tolerance = 0;        // accuracy the evaluation used (0: problem default)
};

// Work done during one outer step (all evaluations, trials included).
struct StepCounters {
  PetscInt evaluations = 0;
  PetscInt krylov_iterations = 0;
  PetscInt lower_iterations = 0;
  double evaluation_seconds = 0;
  double rejected_seconds = 0;  // spent in trial evaluations a line search rejected
};

class Oracle {
 public:
  Oracle(MPI_Comm comm, UpperProblem& problem, const OuterOptions& opts);

  MPI_Comm comm() const noexcept { return comm_; }
  UpperProblem& problem() noexcept { return problem_; }
  PetscInt dim() const noexcept { return dim_; }
  const OuterOptions& options() const noexcept { return opts_; }

  // Collective evaluation; the result is rank 0's, broadcast. Counts into counters().
  Evaluation evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc);
  // Evaluates at θ with gradient on the given samples at the policy's accuracy (or at
  // `tolerance` when > 0) and returns the Point.
  Point evaluate_point(const std::vector<PetscReal>& theta, const std::vector<PetscInt>& samples,
                       PetscReal tolerance = 0);

  // Accuracy of the tolerance policy (-outer_adaptive_tol) for the current iterate, or the
  // explicit tolerance when > 0.
  Accuracy accuracy(const std::vector<PetscInt>& samples, PetscReal tolerance = 0) const;
  PetscReal policy_tolerance() const;

  // Box projection P(θ) (identity without bounds).
  void project(std::vector<PetscReal>& theta) const;
  bool bounded() const noexcept { return bounded_; }
  // Stationarity measure: ‖P(θ − g) − θ‖ with bounds, ‖g‖ without.
  PetscReal stationarity(const Point& p) const;

  Point& current() noexcept { return current_; }
  const Point& current() const noexcept { return current_; }
  void set_current(Point p) { current_ = std::move(p); }

  StepCounters& counters() noexcept { return counters_; }
  void reset_counters() { counters_ = StepCounters{}; }

  // Called on every rank after each evaluation, with the broadcast result, whether a gradient
  // was asked for and the evaluation's wall time (the trainer's progress lines). Empty: none.
  using Observer = std::function<void(const Evaluation&, bool need_gradient, double seconds)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  MPI_Comm comm_;
  UpperProblem& problem_;
  const OuterOptions& opts_;
  PetscInt dim_;
  std::vector<PetscReal> lo_, hi_;
  bool bounded_ = false;
  Point current_;
  StepCounters counters_;
  Observer observer_;
};

// Small vector helpers used by the optimisers.
PetscReal dot(const std::vector<PetscReal>& a, const std::vector<PetscReal>& b);
PetscReal norm2(const std::vector<PetscReal>& a);
bool all_finite(const std::vector<PetscReal>& a);

}  // namespace bilearn
