// Human-readable progress on rank 0: one line per outer step (step, loss, ‖∇L‖, α,
// backtracks, Krylov and lower iterations, elapsed, ETA). When stdout is a terminal the step
// lines overwrite each other (\r) as one live line; messages always get their own line.
#pragma once
#include <mpi.h>

#include <string>

#include "bilearn/outer/history.hpp"

namespace bilearn {

class Progress {
 public:
  // first_iteration: iteration count when this run (or resumed run) started, for the ETA.
  // live: "auto" | "yes" | "no" (-outer_progress_live).
  Progress(MPI_Comm comm, bool enabled, const std::string& live, PetscInt max_it, PetscInt first_iteration,
           double elapsed_before);
  ~Progress();
  void step(const HistoryRow& row);
  // One evaluation of L ("step 3, evaluation 2"), printed when it took at least min_seconds
  // (-outer_progress_evaluations; negative: never).
  void evaluation(const std::string& what, PetscReal loss, bool gradient, PetscInt krylov, PetscInt lower,
                  double seconds, double min_seconds);
  void message(const std::string& line);
  void finish();  // ends a live line

  static std::string format_seconds(double s);

 private:
  bool print_ = false;
  bool tty_ = false;
  bool live_open_ = false;
  PetscInt max_it_, first_it_;
  double elapsed_before_, start_;
};

}  // namespace bilearn
