#include "bilearn/app/recycle_space_file.hpp"

#include <filesystem>

#include "bilearn/core/error.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/lower/hessian_structure.hpp"

namespace bilearn {
namespace {

constexpr PetscInt kMagic = 0x52435350;  // "RCSP"
constexpr PetscInt kVersion = 1;
constexpr PetscInt kHeaderLength = 4;  // magic, version, count, rows

// Size of path in bytes as rank 0 of comm sees it (-1 if missing), the same on every rank.
long long file_size(MPI_Comm comm, const std::string& path) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  long long size = -1;
  if (rank == 0) {
    std::error_code ec;
    const auto s = std::filesystem::file_size(path, ec);
    if (!ec) size = static_cast<long long>(s);
  }
  MPI_Bcast(&size, 1, MPI_LONG_LONG, 0, comm);
  return size;
}

// Bytes of a file holding count vectors of rows entries (VecView writes a class id and the size).
long long expected_size(PetscInt count, PetscInt rows) {
  const long long header = kHeaderLength * static_cast<long long>(sizeof(PetscInt));
  const long long vec =
      2 * static_cast<long long>(sizeof(PetscInt)) + rows * static_cast<long long>(sizeof(PetscScalar));
  return header + count * vec;
}

// The reason the header cannot be used with this grid and file size, or "".
std::string check_header(const std::string& path, const PetscInt* h, PetscInt got, PetscInt rows, long long size) {
  const std::string where = "recycle space file '" + path + "'";
  if (size < expected_size(0, 0))
    return where + " has " + std::to_string(size) + " bytes, fewer than its header (truncated?)";
  if (got != kHeaderLength || h[0] != kMagic) return where + " has no recycle space header (not written by bilearn?)";
  if (h[1] != kVersion)
    return where + " has format version " + std::to_string(h[1]) + ", this build reads " + std::to_string(kVersion);
  if (h[2] < 0) return where + " declares " + std::to_string(h[2]) + " vectors";
  if (h[3] != rows)
    return where + " holds vectors of " + std::to_string(h[3]) + " rows, the sample grid has " + std::to_string(rows) +
           " pixels";
  if (size != expected_size(h[2], h[3]))
    return where + " has " + std::to_string(size) + " bytes, " + std::to_string(h[2]) + " vectors of " +
           std::to_string(h[3]) + " rows need " + std::to_string(expected_size(h[2], h[3])) + " (truncated?)";
  return "";
}

}  // namespace

void write_recycle_space(const std::string& path, KSP ksp, const ImageGrid& grid) {
  PetscInt n = 0;
  const Vec* vecs = nullptr;
  if (ksp && is_recycling_ksp(ksp)) BILEARN_CHECK(KSPRecycleGetSpace(ksp, &n, &vecs));
  OwnedViewer viewer = open_binary_viewer(grid.comm(), path, FILE_MODE_WRITE);
  PetscInt header[kHeaderLength] = {kMagic, kVersion, n, grid.pixels()};
  BILEARN_CHECK(PetscViewerBinaryWrite(viewer, header, kHeaderLength, PETSC_INT));
  if (n == 0) return;
  OwnedVec image = grid.create_vec();  // DMDA vector: VecView writes natural order
  for (PetscInt j = 0; j < n; ++j) {
    BILEARN_CHECK(VecCopy(vecs[j], image));
    BILEARN_CHECK(VecView(image, viewer));
  }
}

std::string read_recycle_space(const std::string& path, const ImageGrid& grid, std::vector<OwnedVec>& space) {
  space.clear();
  const long long size = file_size(grid.comm(), path);
  if (size < 0) return "";  // a checkpoint written before spaces were saved: no space
  PetscInt header[kHeaderLength] = {0, 0, 0, 0};
  PetscInt got = 0;
  OwnedViewer viewer = open_binary_viewer(grid.comm(), path, FILE_MODE_READ);
  if (size >= expected_size(0, 0))  // all ranks get rank 0's header
    BILEARN_CHECK(PetscViewerBinaryRead(viewer, header, kHeaderLength, &got, PETSC_INT));
  const std::string reason = check_header(path, header, got, grid.pixels(), size);
  if (!reason.empty()) return reason;
  for (PetscInt j = 0; j < header[2]; ++j) {
    space.push_back(grid.create_vec());
    BILEARN_CHECK(VecLoad(space.back(), viewer));
  }
  return "";
}

void seed_recycle_space(KSP ksp, const std::vector<OwnedVec>& space) {
  if (space.empty() || !ksp || !is_recycling_ksp(ksp)) return;
  std::vector<Vec> vecs;
  for (const auto& v : space) vecs.push_back(v.get());
  BILEARN_CHECK(KSPRecycleSetSpace(ksp, static_cast<PetscInt>(vecs.size()), vecs.data()));
}

}  // namespace bilearn
