// Recycle spaces in checkpoints (krylov/recycle_space_file, the image grid's DMDA as the
// layout): a space written by a group of any size loads bitwise on any other (natural order), an empty or absent space
// reads as empty, and every kind of bad file gives one message naming the file, the same on every rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "bilearn/core/error.hpp"
#include "bilearn/core/image_grid.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/recycle_space_file.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace bilearn::krylov;
using namespace bilearn_test;

namespace {

// Value of column j of the test space at natural index i (exact in binary).
PetscScalar value(PetscInt j, PetscInt i) {
  return static_cast<PetscScalar>(1000 * (j + 1) + i) / 64.0;
}

// count vectors on grid with the values above.
std::vector<OwnedVec> make_space(const ImageGrid& grid, PetscInt count) {
  std::vector<OwnedVec> space;
  std::vector<PetscScalar> natural(static_cast<size_t>(grid.pixels()));
  for (PetscInt j = 0; j < count; ++j) {
    for (PetscInt i = 0; i < grid.pixels(); ++i) natural[static_cast<size_t>(i)] = value(j, i);
    space.push_back(grid.create_vec());
    grid.set_from_natural(natural, space.back());
  }
  return space;
}

// Number of entries of space that differ from the test values (collective over grid.comm()).
PetscInt wrong_entries(const ImageGrid& grid, const std::vector<OwnedVec>& space) {
  PetscInt wrong = 0;
  for (size_t j = 0; j < space.size(); ++j) {
    const std::vector<PetscScalar> natural = grid.gather_natural(space[j]);
    for (size_t i = 0; i < natural.size(); ++i)
      if (natural[i] != value(static_cast<PetscInt>(j), static_cast<PetscInt>(i))) ++wrong;
  }
  MPI_Bcast(&wrong, 1, MPIU_INT, 0, grid.comm());
  return wrong;
}

// A recycling KSP on grid whose next space is space.
OwnedKSP recycling_ksp(const ImageGrid& grid, const std::vector<OwnedVec>& space) {
  OwnedKSP ksp;
  BILEARN_CHECK(KSPCreate(grid.comm(), ksp.out()));
  BILEARN_CHECK(KSPSetType(ksp, KSPRMINRES));
  seed_recycle_space(ksp, space);
  return ksp;
}

// The communicator of ranks 0 and 1 (rank 0 alone on one rank); MPI_COMM_NULL elsewhere.
MPI_Comm pair_comm() {
  const int rank = rank_in(PETSC_COMM_WORLD);
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Comm_split(PETSC_COMM_WORLD, rank < 2 ? 0 : MPI_UNDEFINED, rank, &comm);
  return comm;
}

// A scratch directory (ScratchDirTest) and a check of a space file read back.
class RecycleSpaceFileTest : public ScratchDirTest {
 protected:
  RecycleSpaceFileTest() : ScratchDirTest("space") {}

  // Reads file on a grid of side n over comm and checks the verdict and the contents.
  void expect_reads(MPI_Comm comm, const std::string& file, PetscInt n, PetscInt count, const std::string& what) {
    ImageGrid grid(comm, n);
    std::vector<OwnedVec> space;
    const std::string reason = read_recycle_space(file, grid.dm(), space);
    EXPECT_EQ(reason, "") << what;
    EXPECT_EQ(static_cast<PetscInt>(space.size()), count) << what;
    EXPECT_EQ(wrong_entries(grid, space), 0) << what;
  }
};

const PetscInt kSide = 12;
const PetscInt kCount = 3;

}  // namespace

TEST_F(RecycleSpaceFileTest, RoundTripOnAnyNumberOfRanks) {
  const std::string from_world = path("world.bin"), from_self = path("self.bin"), from_pair = path("pair.bin");
  {
    ImageGrid grid(PETSC_COMM_WORLD, kSide);
    const std::vector<OwnedVec> space = make_space(grid, kCount);
    OwnedKSP ksp = recycling_ksp(grid, space);
    write_recycle_space(from_world, ksp, grid.dm());
  }
  if (rank_in(PETSC_COMM_WORLD) == 0) {  // a group of one rank
    ImageGrid grid(PETSC_COMM_SELF, kSide);
    OwnedKSP ksp = recycling_ksp(grid, make_space(grid, kCount));
    write_recycle_space(from_self, ksp, grid.dm());
  }
  MPI_Comm pair = pair_comm();
  if (pair != MPI_COMM_NULL) {  // a group of two ranks (one on a single rank)
    ImageGrid grid(pair, kSide);
    OwnedKSP ksp = recycling_ksp(grid, make_space(grid, kCount));
    write_recycle_space(from_pair, ksp, grid.dm());
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  for (const std::string& file : {from_world, from_self, from_pair}) {
    expect_reads(PETSC_COMM_WORLD, file, kSide, kCount, file + " on all ranks");
    expect_reads(PETSC_COMM_SELF, file, kSide, kCount, file + " on each rank alone");
    if (pair != MPI_COMM_NULL) expect_reads(pair, file, kSide, kCount, file + " on ranks 0 and 1");
  }
  if (pair != MPI_COMM_NULL) MPI_Comm_free(&pair);
}

TEST_F(RecycleSpaceFileTest, SeededKspCarriesTheSpace) {
  ImageGrid grid(PETSC_COMM_WORLD, kSide);
  std::vector<OwnedVec> space;
  write_recycle_space(path("a.bin"), recycling_ksp(grid, make_space(grid, kCount)), grid.dm());
  EXPECT_EQ(read_recycle_space(path("a.bin"), grid.dm(), space), "");
  OwnedKSP ksp = recycling_ksp(grid, space);
  PetscInt n = 0;
  const Vec* vecs = nullptr;
  BILEARN_CHECK(KSPRecycleGetSpace(ksp, &n, &vecs));
  EXPECT_EQ(n, kCount);
  for (PetscInt j = 0; j < std::min(n, kCount); ++j) {
    PetscBool equal = PETSC_FALSE;
    BILEARN_CHECK(VecEqual(vecs[j], space[static_cast<size_t>(j)], &equal));
    EXPECT_TRUE(equal) << "column " << j;
  }
}

TEST_F(RecycleSpaceFileTest, NoSpaceReadsAsEmpty) {
  ImageGrid grid(PETSC_COMM_WORLD, kSide);
  OwnedKSP cg;  // not a recycling type: nothing to save
  BILEARN_CHECK(KSPCreate(grid.comm(), cg.out()));
  BILEARN_CHECK(KSPSetType(cg, KSPCG));
  write_recycle_space(path("cg.bin"), cg, grid.dm());
  write_recycle_space(path("null.bin"), nullptr, grid.dm());  // a sample without a KSP yet
  write_recycle_space(path("fresh.bin"), recycling_ksp(grid, {}), grid.dm());
  for (const char* name : {"cg.bin", "null.bin", "fresh.bin", "absent.bin"}) {
    std::vector<OwnedVec> space = make_space(grid, 1);  // replaced by the (empty) space read
    EXPECT_EQ(read_recycle_space(path(name), grid.dm(), space), "") << name;
    EXPECT_TRUE(space.empty()) << name;
  }
  seed_recycle_space(cg, make_space(grid, 2));  // no-op for other KSP types
}

TEST_F(RecycleSpaceFileTest, BadFilesGiveOneReasonOnEveryRank) {
  ImageGrid grid(PETSC_COMM_WORLD, kSide);
  const std::string good = path("good.bin");
  write_recycle_space(good, recycling_ksp(grid, make_space(grid, kCount)), grid.dm());
  const auto size = static_cast<std::uintmax_t>(std::filesystem::file_size(good));
  struct Case {
    std::string name, expected;
    std::function<void(const std::string&)> damage;
  };
  const std::vector<Case> cases = {
      {"truncated.bin", "(truncated?)", [&](const std::string& f) { std::filesystem::resize_file(f, size - 8); }},
      {"header_only.bin", "fewer than its header", [](const std::string& f) { std::filesystem::resize_file(f, 6); }},
      {"longer.bin", "(truncated?)",
       [](const std::string& f) { std::ofstream(f, std::ios::binary | std::ios::app) << "extra"; }},
      {"text.bin", "no recycle space header",
       [](const std::string& f) { std::ofstream(f, std::ios::binary | std::ios::trunc) << std::string(64, 'x'); }},
  };
  for (const auto& c : cases) {
    if (rank_in(PETSC_COMM_WORLD) == 0) {
      std::filesystem::copy_file(good, path(c.name));
      c.damage(path(c.name));
    }
    MPI_Barrier(PETSC_COMM_WORLD);
    std::vector<OwnedVec> space;
    const std::string reason = read_recycle_space(path(c.name), grid.dm(), space);
    EXPECT_TRUE(contains(reason, "recycle space file '" + path(c.name) + "'")) << reason;
    EXPECT_TRUE(contains(reason, c.expected)) << reason;
    EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
    EXPECT_TRUE(space.empty()) << c.name;
    // The same verdict on every rank.
    int len = static_cast<int>(reason.size()), min_len = 0, max_len = 0;
    MPI_Allreduce(&len, &min_len, 1, MPI_INT, MPI_MIN, PETSC_COMM_WORLD);
    MPI_Allreduce(&len, &max_len, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
    EXPECT_EQ(min_len, max_len) << c.name;
  }
  // A space of another image size.
  ImageGrid other(PETSC_COMM_WORLD, kSide + 2);
  std::vector<OwnedVec> space;
  const std::string reason = read_recycle_space(good, other.dm(), space);
  EXPECT_TRUE(contains(reason, "holds vectors of " + std::to_string(kSide * kSide) + " rows, the sample grid has " +
                                   std::to_string((kSide + 2) * (kSide + 2)) + " pixels"))
      << reason;
  EXPECT_TRUE(space.empty());
}
