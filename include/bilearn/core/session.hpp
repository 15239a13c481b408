// Library life cycle: SLEPc/PETSc initialisation with the quiet error handler and log event
// registration, and the one-line error report. The packages above core register their PETSc
// plug-ins themselves (bilearn::krylov::register_package for the KSP types).
#pragma once
#include <petscsys.h>

#include <exception>

namespace bilearn {

class Session {
 public:
  // argc/argv are handed to SlepcInitialize (PETSc options only). help is the -help banner.
  Session(int* argc, char*** argv, const char* help = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
};

// Reports e as one line "bilearn: error: <message>" and returns the exit status (1).
// If every rank failed, rank 0 prints and the call returns so the caller can finalize;
// if only some ranks failed (the others are stuck in a collective), the failing rank prints
// and aborts MPI: the ranks have diverged.
int report_error(const std::exception& e);

// Pretty one-line message from an exception (no PETSc traceback).
const char* error_message(const std::exception& e);

}  // namespace bilearn
