#include "bilearn/core/session.hpp"

#include <slepcsys.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"

namespace bilearn {

Session::Session(int* argc, char*** argv, const char* help) {
  PetscErrorCode ierr = SlepcInitialize(argc, argv, nullptr, help);
  if (ierr) {
    std::fprintf(stderr, "bilearn: error: could not initialise PETSc/SLEPc (code %d)\n", (int)ierr);
    throw PetscFailure(ierr, "initialisation failed");
  }
  PetscPushErrorHandler(quiet_error_handler, nullptr);
  log::register_all();
}

Session::~Session() {
  SlepcFinalize();
}

const char* error_message(const std::exception& e) {
  return e.what();
}

int report_error(const std::exception& e) {
  PetscMPIInt size = 1, rank = 0, initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) {
    std::fprintf(stderr, "bilearn: error: %s\n", e.what());
    return 1;
  }
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (size == 1) {
    std::fprintf(stderr, "bilearn: error: %s\n", e.what());
    return 1;
  }
  // Did every rank fail? Wait a little for all ranks to arrive at a non-blocking barrier.
  MPI_Request request;
  MPI_Ibarrier(MPI_COMM_WORLD, &request);
  int done = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (done) {
    if (rank == 0) std::fprintf(stderr, "bilearn: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "bilearn: error: %s (rank %d; the ranks diverged, aborting)\n", e.what(), (int)rank);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  return 1;
}

}  // namespace bilearn
