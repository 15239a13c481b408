// history.csv: one row per accepted outer step, written by rank 0 and flushed at once.
// Columns: iteration,upper_loss,grad_norm,step,backtracks,krylov_iterations,lower_iterations,
// seconds (the docs/design.md contract), then step_norm,evaluations,tolerance,phase and, when
// p ≤ 64, theta_0..theta_{p−1}. Reals are printed with %.17g (exact round trip); `seconds`
// is the wall time since the start of training (resumed runs continue the count).
#pragma once
#include <mpi.h>
#include <petscsys.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bilearn/io/history_plot.hpp"

namespace bilearn {

struct HistoryRow {
  PetscInt iteration = 0;
  PetscReal upper_loss = 0;
  PetscReal grad_norm = 0;
  PetscReal step = 0;
  PetscInt backtracks = 0;
  PetscInt krylov_iterations = 0;
  PetscInt lower_iterations = 0;
  double seconds = 0;
  PetscReal step_norm = 0;
  PetscInt evaluations = 0;
  PetscReal tolerance = 0;
  std::string phase;
  std::vector<PetscReal> theta;
};

constexpr PetscInt history_max_theta_columns = 64;

std::string history_header(PetscInt dim);
std::string history_line(const HistoryRow& row);  // without the newline

// The plotted columns (iteration, upper_loss, grad_norm, krylov_iterations, lower_iterations)
// of history text, header line first, one entry per row; a missing or unreadable field is NaN.
HistorySeries history_series(const std::string& text);
void append_to_series(HistorySeries& s, const HistoryRow& row);

// The history file of a run; keeps the text written so far (for checkpoints) and its series
// (for history.png) on every rank.
class HistoryFile {
 public:
  // path empty: nothing is written (the text is still kept). initial_text: header and rows
  // to start with (a resumed run's history); empty: a new file with header_line.
  HistoryFile(MPI_Comm comm, const std::string& path, const std::string& header_line,
              const std::string& initial_text = "");
  ~HistoryFile();
  HistoryFile(const HistoryFile&) = delete;
  HistoryFile& operator=(const HistoryFile&) = delete;

  void append(const HistoryRow& row);  // collective (the write verdict is shared)
  const std::string& text() const noexcept { return text_; }
  const HistorySeries& series() const noexcept { return series_; }

 private:
  MPI_Comm comm_;
  std::string path_;
  std::string text_;
  HistorySeries series_;
  std::FILE* file_ = nullptr;  // rank 0 only
};

}  // namespace bilearn
