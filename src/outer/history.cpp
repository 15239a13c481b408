#include "bilearn/outer/history.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

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

namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
  return fields;
}

double field_value(const std::vector<std::string>& fields, int column) {
  if (column < 0 || column >= static_cast<int>(fields.size())) return std::numeric_limits<double>::quiet_NaN();
  const char* begin = fields[column].c_str();
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  return end != begin ? v : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

HistorySeries history_series(const std::string& text) {
  HistorySeries s;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return s;
  const std::vector<std::string> header = split_fields(line);
  auto column = [&](const std::string& name) {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  };
  const int c_it = column("iteration"), c_loss = column("upper_loss"), c_grad = column("grad_norm"),
            c_krylov = column("krylov_iterations"), c_lower = column("lower_iterations");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> f = split_fields(line);
    s.step.push_back(field_value(f, c_it));
    s.upper_loss.push_back(field_value(f, c_loss));
    s.grad_norm.push_back(field_value(f, c_grad));
    s.krylov_iterations.push_back(field_value(f, c_krylov));
    s.lower_iterations.push_back(field_value(f, c_lower));
  }
  return s;
}

void append_to_series(HistorySeries& s, const HistoryRow& row) {
  s.step.push_back(static_cast<double>(row.iteration));
  s.upper_loss.push_back(static_cast<double>(row.upper_loss));
  s.grad_norm.push_back(static_cast<double>(row.grad_norm));
  s.krylov_iterations.push_back(static_cast<double>(row.krylov_iterations));
  s.lower_iterations.push_back(static_cast<double>(row.lower_iterations));
}

HistoryFile::HistoryFile(MPI_Comm comm, const std::string& path, const std::string& header_line,
                         const std::string& initial_text)
    : comm_(comm),
      path_(path),
      text_(initial_text.empty() ? header_line + "\n" : initial_text),
      series_(history_series(text_)) {
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
  append_to_series(series_, row);
  if (path_.empty()) return;
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  int ok = 1;
  if (rank == 0) ok = std::fputs(line.c_str(), file_) >= 0 && std::fflush(file_) == 0;
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm_);
  require(ok == 1, "cannot write history file '" + path_ + "'");
}

}  // namespace bilearn
