// GoogleTest main for MPI tests: initialises MPI, PETSc and SLEPc through bilearn's
// Session, prints on rank 0 only, and reduces the verdict over all ranks (a test fails
// everywhere if it failed on any rank).
#include <gtest/gtest.h>

#include "bilearn/core/session.hpp"
#include "bilearn/krylov/package.hpp"

namespace {
// Silences GoogleTest's printer on ranks other than 0.
void silence_nonroot_ranks() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
}
}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int status = 1;
  try {
    bilearn::Session session(&argc, &argv);
    bilearn::krylov::register_package();
    silence_nonroot_ranks();
    int local_failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    int any_failed = 0;
    MPI_Allreduce(&local_failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (any_failed && !local_failed) std::fprintf(stderr, "[rank %d] passed here, failed on another rank\n", rank);
    status = any_failed;
  } catch (const std::exception& e) {
    return bilearn::report_error(e);
  }
  return status;
}
