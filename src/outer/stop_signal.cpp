#include "bilearn/outer/stop_signal.hpp"

namespace bilearn {
namespace {
volatile std::sig_atomic_t received = 0;

extern "C" void on_stop_signal(int sig) {
  received = sig;
}
}  // namespace

StopSignalGuard::StopSignalGuard() {
  received = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // do not break the MPI / file calls the run is in
  sigaction(SIGTERM, &sa, &old_term_);
  sigaction(SIGUSR1, &sa, &old_usr1_);
}

StopSignalGuard::~StopSignalGuard() {
  sigaction(SIGTERM, &old_term_, nullptr);
  sigaction(SIGUSR1, &old_usr1_, nullptr);
}

int stop_signal_received() {
  return received;
}

}  // namespace bilearn
