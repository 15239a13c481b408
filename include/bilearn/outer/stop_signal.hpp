// SIGTERM / SIGUSR1 (e.g. SLURM --signal=B:USR1@300) ask the run to stop at the next safe
// point: the handler only sets a flag; the trainer reduces it over the ranks after each
// outer step, writes a checkpoint and stops with the reason "signal".
#pragma once
#include <csignal>

namespace bilearn {

// Installs the handlers for its lifetime (restoring the previous ones afterwards). Guards nest:
// only the outermost one installs the handlers and clears the flag, so that `train` can hold one
// over the whole command (a signal during the set-up or the initial reconstructions is kept for
// the trainer's first check, one during the final pictures and summary no longer kills the run)
// while the trainer holds its own.
class StopSignalGuard {
 public:
  StopSignalGuard();
  ~StopSignalGuard();
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;
};

// The signal received on this rank since the outermost guard was installed (0: none). Rank-local.
int stop_signal_received();

}  // namespace bilearn
