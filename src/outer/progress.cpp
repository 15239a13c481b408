#include "bilearn/outer/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace bilearn {

Progress::Progress(MPI_Comm comm, bool enabled, const std::string& live, PetscInt max_it, PetscInt first_iteration,
                   double elapsed_before)
    : max_it_(max_it), first_it_(first_iteration), elapsed_before_(elapsed_before), start_(MPI_Wtime()) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  print_ = enabled && rank == 0;
  const bool under_openmpi = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr;  // stdout is always a pty there
  tty_ = print_ && (live == "yes" || (live == "auto" && isatty(fileno(stdout)) && !under_openmpi));
}

Progress::~Progress() {
  finish();
}

std::string Progress::format_seconds(double s) {
  char buf[64];
  if (s < 0)
    std::snprintf(buf, sizeof(buf), "?");
  else if (s < 60)
    std::snprintf(buf, sizeof(buf), "%.1fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  return buf;
}

void Progress::step(const HistoryRow& r) {
  if (!print_) return;
  const double run = MPI_Wtime() - start_;
  const PetscInt done = r.iteration - first_it_;
  const double eta = done > 0 ? run / static_cast<double>(done) * static_cast<double>(max_it_ - r.iteration) : -1;
  char buf[400];
  std::snprintf(buf, sizeof(buf),
                "outer %4d/%d  L %.6e  |g| %.3e  step %.3e  bt %d  krylov %d  lower %d  %s  elapsed %s  ETA %s",
                static_cast<int>(r.iteration), static_cast<int>(max_it_), static_cast<double>(r.upper_loss),
                static_cast<double>(r.grad_norm), static_cast<double>(r.step), static_cast<int>(r.backtracks),
                static_cast<int>(r.krylov_iterations), static_cast<int>(r.lower_iterations), r.phase.c_str(),
                format_seconds(elapsed_before_ + run).c_str(), format_seconds(eta).c_str());
  if (tty_) {
    std::printf("\r%s\033[K", buf);  // one live line, cleared to its end
    live_open_ = true;
  } else {
    std::printf("%s\n", buf);
  }
  std::fflush(stdout);
}

void Progress::evaluation(const std::string& what, PetscReal loss, bool gradient, PetscInt krylov, PetscInt lower,
                          double seconds, double min_seconds) {
  if (!print_ || min_seconds < 0 || seconds < min_seconds) return;
  char buf[300];
  std::snprintf(buf, sizeof(buf), "  %s: L %.6e%s  krylov %d  lower %d  %s", what.c_str(), static_cast<double>(loss),
                gradient ? " and gradient" : "", static_cast<int>(krylov), static_cast<int>(lower),
                format_seconds(seconds).c_str());
  message(buf);
}

void Progress::message(const std::string& line) {
  if (!print_) return;
  finish();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (live_open_) {
    std::printf("\n");
    std::fflush(stdout);
  }
  live_open_ = false;
}

}  // namespace bilearn
