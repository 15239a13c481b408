// Helpers shared by the test executables of every area: the rank on PETSC_COMM_WORLD, a
// file's content, a substring check, PETSc options set for a scope, and a gtest fixture with a scratch directory
// that every rank knows.
#pragma once
#include <gtest/gtest.h>
#include <petscsys.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"

namespace bilearn_test {

inline int rank_in(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank;
}

inline int world_rank() {
  return rank_in(PETSC_COMM_WORLD);
}

// The whole content of a file ("" if it cannot be read).
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Sets PETSc options (name, value; an empty value sets the bare name) for the lifetime of the
// object and clears them afterwards.
class ScopedOptions {
 public:
  using List = std::vector<std::pair<std::string, std::string>>;
  ScopedOptions(std::initializer_list<std::pair<std::string, std::string>> options) : ScopedOptions(List(options)) {}
  explicit ScopedOptions(List options) : options_(std::move(options)) {
    for (const auto& [name, value] : options_)
      BILEARN_CHECK(PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str()));
  }
  ~ScopedOptions() {
    for (const auto& option : options_) PetscOptionsClearValue(nullptr, option.first.c_str());
  }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  List options_;
};

// A vector like `like`, filled by PETSc's default random generator seeded with seed (the same
// values for any rank count).
inline bilearn::OwnedVec random_vec(Vec like, unsigned long seed) {
  bilearn::OwnedVec v;
  BILEARN_CHECK(VecDuplicate(like, v.out()));
  bilearn::OwnedRandom random;
  BILEARN_CHECK(PetscRandomCreate(PetscObjectComm((PetscObject)like), random.out()));
  BILEARN_CHECK(PetscRandomSetSeed(random, seed));
  BILEARN_CHECK(PetscRandomSeed(random));
  BILEARN_CHECK(VecSetRandom(v, random));
  return v;
}

// For test files that check the assembled tomography matrix entry by entry (against AIR Tools,
// its transpose, its natural order): -tomo_fold false for the whole binary. test_folded_operator
// compares the folded operator with that matrix.
class UnfoldedTomography : public ::testing::Environment {
 public:
  void SetUp() override { BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-tomo_fold", "false")); }
};

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
