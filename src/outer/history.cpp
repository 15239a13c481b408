#include "bilearn/outer/history.hpp"

#include <cstdio>

#include "bilearn/core/error.hpp"

namespace bilearn {

std::string history_header(PetscInt dim) {
  std::string h =
      "iteration,upper_loss,grad_norm,step,backtracks,krylov_iterations,lower_iterations,seconds,step_norm,"
      "evaluations,tolerance,phase";
  if (dim <= history_max_theta_columns)
    for (PetscInt i = 0; i < dim; ++i) h += ",theta_" + std::to_string(i);
  return h;
}

std::string history_line(const HistoryRow& r) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), "%d,%.17g,%.17g,%.17g,%d,%d,%d,%.6f,%.17g,%d,%.17g,%s", static_cast<int>(r.iteration),
                static_cast<double>(r.upper_loss), static_cast<double>(r.grad_norm), static_cast<double>(r.step),
                static_cast<int>(r.backtracks), static_cast<int>(r.krylov_iterations),
                static_cast<int>(r.lower_iterations), r.seconds, static_cast<double>(r.step_norm),
                static_cast<int>(r.evaluations), static_cast<double>(r.tolerance), r.phase.c_str());
  std::string line = buf;
  if (static_cast<PetscInt>(r.theta.size()) <= history_max_theta_columns)
    for (PetscReal t : r.theta) {
      std::snprintf(buf, sizeof(buf), ",%.17g", static_cast<double>(t));
      line += buf;
    }
  return line;
}

HistoryFile::HistoryFile(MPI_Comm comm, const std::string& path, const std::string& header_line,
                         const std::string& initial_text)
    : comm_(comm), path_(path), text_(initial_text.empty() ? header_line + "\n" : initial_text) {
  if (path_.empty()) return;
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  int ok = 1;
  if (rank == 0) {
    file_ = std::fopen(path_.c_str(), "w");  // a resumed run rewrites the checkpointed rows
    ok = file_ && std::fputs(text_.c_str(), file_) >= 0 && std::fflush(file_) == 0;
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm_);
  require(ok == 1, "cannot write history file '" + path_ + "'");
}

HistoryFile::~HistoryFile() {
  if (file_) std::fclose(file_);
}

void HistoryFile::append(const HistoryRow& row) {
  const std::string line = history_line(row) + "\n";
  text_ += line;
  if (path_.empty()) return;
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  int ok = 1;
  if (rank == 0) ok = std::fputs(line.c_str(), file_) >= 0 && std::fflush(file_) == 0;
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm_);
  require(ok == 1, "cannot write history file '" + path_ + "'");
}

}  // namespace bilearn
