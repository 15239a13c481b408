#include "bilearn/outer/stop_signal.hpp"

namespace bilearn {
namespace {
volatile std::sig_atomic_t received = 0;
int depth = 0;  // guards alive (the handlers are installed while depth > 0)
struct sigaction old_term {};
struct sigaction old_usr1 {};

extern "C" void on_stop_signal(int sig) {
  received = sig;
}
}  // namespace

StopSignalGuard::StopSignalGuard() {
  if (depth++ > 0) return;
  received = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // do not break the MPI / file calls the run is in
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGUSR1, &sa, &old_usr1);
}

StopSignalGuard::~StopSignalGuard() {
  if (--depth > 0) return;
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
}

int stop_signal_received() {
  return received;
}

}  // namespace bilearn
