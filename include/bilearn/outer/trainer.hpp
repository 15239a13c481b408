// The outer loop driver: runs an optimiser (-outer_type) on an UpperProblem from θ₀, with
// the stopping tests (-outer_max_it, -outer_gtol), history.csv and its plot history.png
// (redrawn after every accepted step), progress lines, periodic atomic checkpoints
// (-outer_checkpoint_every) and a clean stop on SIGTERM/SIGUSR1.
//
//   loop:  stop if k ≥ max_it or stationarity(θ_k) ≤ gtol
//          step (line search etc.) → on failure stop "line_search_failed" (an exception
//          instead if no step was ever accepted)
//          problem.accept(θ_{k+1}); history row (flushed); history.png; progress line
//          checkpoint if (k+1) % checkpoint_every == 0
//          a stop signal on any rank → checkpoint, stop "signal"
//   end:   a final checkpoint if the last iterate has none; a full-batch evaluation if the
//          last one was a mini-batch (so upper_loss is the full L(θ)).
//
// Resume reads the newest valid checkpoint of out_dir and continues exactly: the resumed
// θ sequence equals the uninterrupted one bit for bit (same options assumed; -outer_type
// must match, -outer_max_it may be raised).
#pragma once
#include <mpi.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bilearn/outer/outer_options.hpp"
#include "bilearn/outer/upper_problem.hpp"

namespace bilearn {

struct TrainResult {
  std::vector<PetscReal> theta;
  PetscReal initial_upper_loss = 0;
  PetscReal upper_loss = 0;
  PetscReal grad_norm = 0;
  PetscInt outer_iterations = 0;
  PetscInt armijo_backtracks_total = 0;
  PetscInt krylov_iterations_total = 0;
  PetscInt lower_iterations_total = 0;
  PetscInt evaluations_total = 0;
  std::string optimizer;
  std::string stop_reason;            // max_it | gtol | line_search_failed | signal
  std::string stop_message;           // one line for humans
  PetscInt resumed_from = -1;         // checkpoint iteration this run resumed from (-1: fresh run)
  std::vector<std::string> warnings;  // e.g. damaged checkpoints skipped on resume
  nlohmann::json optimizer_summary = nlohmann::json::object();  // FUSE: switch/fallback data
  // Wall time split over this process's run (resumed runs: this part only).
  double seconds_total = 0;
  double seconds_evaluations = 0;  // all evaluate() calls
  double seconds_rejected = 0;     // of which rejected line-search trials
  double seconds_checkpoint = 0;
  double seconds_history = 0;

  // The train command's summary.json fields (initial_upper_loss, upper_loss, theta,
  // outer_iterations, armijo_backtracks_total, krylov_iterations_total,
  // lower_iterations_total, stop_reason, fuse_switch_iteration, ...).
  nlohmann::json to_json() const;
};

// Collective over comm. out_dir is created by rank 0; empty: no files at all (no history,
// no plot, no checkpoints). Throws NumericalError if the very first step fails.
TrainResult train(MPI_Comm comm, UpperProblem& problem, const std::vector<PetscReal>& theta0, const OuterOptions& opts,
                  const std::string& out_dir);

// Continues the run whose files are in out_dir (what `train --resume DIR` calls).
TrainResult resume(MPI_Comm comm, UpperProblem& problem, const OuterOptions& opts, const std::string& out_dir);

}  // namespace bilearn
