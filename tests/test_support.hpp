// Helpers shared by the test executables of every area: the rank on PETSC_COMM_WORLD, a
// substring check, and a gtest fixture with a scratch directory that every rank knows.
#pragma once
#include <gtest/gtest.h>
#include <petscsys.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

namespace bilearn_test {

inline int rank_in(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

inline int world_rank() {
  return rank_in(PETSC_COMM_WORLD);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A scratch directory made by rank 0 (bilearn-test-<tag>-XXXXXX under the system temporary
// directory) and known to every rank; removed after the test. Collective over PETSC_COMM_WORLD.
class ScratchDirTest : public ::testing::Test {
 protected:
  explicit ScratchDirTest(std::string tag) : tag_(std::move(tag)) {}

  void SetUp() override {
    char buffer[PETSC_MAX_PATH_LEN] = {0};
    if (world_rank() == 0) {
      const std::string pattern =
          (std::filesystem::temp_directory_path() / ("bilearn-test-" + tag_ + "-XXXXXX")).string();
      std::strncpy(buffer, pattern.c_str(), sizeof(buffer) - 1);
      if (!mkdtemp(buffer)) buffer[0] = 0;
    }
    MPI_Bcast(buffer, sizeof(buffer), MPI_CHAR, 0, PETSC_COMM_WORLD);
    dir_ = buffer;
    EXPECT_FALSE(dir_.empty());
  }
  void TearDown() override {
    MPI_Barrier(PETSC_COMM_WORLD);
    if (world_rank() == 0 && !dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string tag_;
  std::string dir_;
};

}  // namespace bilearn_test
