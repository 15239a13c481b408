// Unused options: an option no rank read is reported, one read on some ranks only (one sample
// group, rank 0) is not, nor are PETSc's own options read after the command (PetscFinalize);
// -strict_options turns the report into an InputError naming the options.
#include <gtest/gtest.h>

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/unused_options.hpp"
#include "test_support.hpp"

using namespace bilearn;
using bilearn_test::contains;
using bilearn_test::world_rank;

namespace {

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void read_option(const char* name) {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &set));
  EXPECT_TRUE(set) << name;
}

}  // namespace

TEST(UnusedOptions, ReportedUnlessSomeRankReadThem) {
  for (const char* name : {"-unusedtest_never", "-unusedtest_rank0", "-unusedtest_last_rank", "-unusedtest_all"})
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, name, "1"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-nox_warning", nullptr));  // PETSc reads it only when drawing
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  if (world_rank() == 0) read_option("-unusedtest_rank0");
  if (world_rank() == size - 1) read_option("-unusedtest_last_rank");
  read_option("-unusedtest_all");

  const std::vector<std::string> unused = unused_options(PETSC_COMM_WORLD);
  EXPECT_TRUE(listed(unused, "-unusedtest_never"));
  EXPECT_FALSE(listed(unused, "-unusedtest_rank0"));
  EXPECT_FALSE(listed(unused, "-unusedtest_last_rank"));
  EXPECT_FALSE(listed(unused, "-unusedtest_all"));
  EXPECT_FALSE(listed(unused, "-nox_warning"));
  // The same list on every rank (rank 0's, broadcast with the verdicts reduced).
  int count = static_cast<int>(unused.size()), low = 0, high = 0;
  MPI_Allreduce(&count, &low, 1, MPI_INT, MPI_MIN, PETSC_COMM_WORLD);
  MPI_Allreduce(&count, &high, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  EXPECT_EQ(low, high);

  // Not strict: a warning only. Strict: one InputError naming the unused option, on every rank.
  EXPECT_NO_THROW(check_unused_options(PETSC_COMM_WORLD));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-strict_options", nullptr));
  std::string message;
  try {
    check_unused_options(PETSC_COMM_WORLD);
  } catch (const InputError& e) {
    message = e.what();
  }
  EXPECT_TRUE(contains(message, "-unusedtest_never")) << message;
  EXPECT_TRUE(contains(message, "-strict_options")) << message;
  EXPECT_FALSE(contains(message, "-unusedtest_all")) << message;

  // Once read, nothing is left to report.
  read_option("-unusedtest_never");
  EXPECT_FALSE(listed(unused_options(PETSC_COMM_WORLD), "-unusedtest_never"));
  for (const char* name : {"-unusedtest_never", "-unusedtest_rank0", "-unusedtest_last_rank", "-unusedtest_all",
                           "-nox_warning", "-strict_options"})
    BILEARN_CHECK(PetscOptionsClearValue(nullptr, name));
}
