// SIGTERM / SIGUSR1 (e.g. SLURM --signal=B:USR1@300) ask the run to stop at the next safe
// point: the handler only sets a flag; the trainer reduces it over the ranks after each
// outer step, writes a checkpoint and stops with the reason "signal".
#pragma once
#include <csignal>

namespace bilearn {

// Installs the handlers for its lifetime (restoring the previous ones afterwards) and clears
// the flag.
class StopSignalGuard {
 public:
  StopSignalGuard();
  ~StopSignalGuard();
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;

 private:
  struct sigaction old_term_ {};
  struct sigaction old_usr1_ {};
};

// The signal received on this rank since the guard was installed (0: none). Rank-local.
int stop_signal_received();

}  // namespace bilearn
