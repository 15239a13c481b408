#include "bilearn/krylov/recycle_space_file.hpp"

#include <filesystem>

#include "bilearn/core/error.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/io/natural_vec_file.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"

namespace bilearn::krylov {
namespace {

constexpr PetscInt kMagic = 0x52435350;  // "RCSP"
constexpr PetscInt kVersion = 2;
constexpr PetscInt kHeaderLength = 4;  // magic, version, count, rows
constexpr PetscInt kStateLength = 2;   // version 2: products count (0 or count), built by the update

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

OwnedVec create_vec(DM dm) {
  OwnedVec v;
  BILEARN_CHECK(DMCreateGlobalVector(dm, v.out()));
  return v;
}

PetscInt rows_of(DM dm) {
  OwnedVec v = create_vec(dm);
  PetscInt rows = 0;
  BILEARN_CHECK(VecGetSize(v, &rows));
  return rows;
}

bool is_recycling(KSP ksp) {
  PetscBool recycling = PETSC_FALSE;
  if (ksp) BILEARN_CHECK(KSPRecycleIsRecycling(ksp, &recycling));
  return recycling == PETSC_TRUE;
}

// Bytes of a file holding count vectors of rows entries (VecView writes a class id and the size).
long long expected_size(PetscInt count, PetscInt rows, PetscInt version = 1, PetscInt products = 0) {
  const long long header =
      (kHeaderLength + (version >= 2 ? kStateLength : 0)) * static_cast<long long>(sizeof(PetscInt));
  const long long vec =
      2 * static_cast<long long>(sizeof(PetscInt)) + rows * static_cast<long long>(sizeof(PetscScalar));
  return header + (count + products) * vec;
}

// The reason the header cannot be used with this DM (rows) and file size, or "".
std::string check_header(const std::string& path, const PetscInt* h, PetscInt got, PetscInt rows, long long size,
                         PetscInt products) {
  const std::string where = "recycle space file '" + path + "'";
  if (size < expected_size(0, 0))
    return where + " has " + std::to_string(size) + " bytes, fewer than its header (truncated?)";
  if (got != kHeaderLength || h[0] != kMagic) return where + " has no recycle space header (not written by bilearn?)";
  if (h[1] != 1 && h[1] != kVersion)
    return where + " has format version " + std::to_string(h[1]) + ", this build reads 1 and " +
           std::to_string(kVersion);
  if (products != 0 && products != h[2])
    return where + " declares " + std::to_string(products) + " products for " + std::to_string(h[2]) + " vectors";
  if (h[2] < 0) return where + " declares " + std::to_string(h[2]) + " vectors";
  if (h[3] != rows)
    return where + " holds vectors of " + std::to_string(h[3]) + " rows, the sample grid has " + std::to_string(rows) +
           " pixels";
  const long long need = expected_size(h[2], h[3], h[1], products);
  if (size != need)
    return where + " has " + std::to_string(size) + " bytes, " + std::to_string(h[2] + products) + " vectors of " +
           std::to_string(h[3]) + " rows need " + std::to_string(need) + " (truncated?)";
  return "";
}

}  // namespace

void write_recycle_space(const std::string& path, KSP ksp, DM dm) {
  PetscInt n = 0, np = 0;
  const Vec *vecs = nullptr, *products = nullptr;
  PetscBool from_update = PETSC_FALSE;
  if (is_recycling(ksp)) {
    BILEARN_CHECK(KSPRecycleGetSpace(ksp, &n, &vecs));
    BILEARN_CHECK(KSPRecycleGetSpaceState(ksp, &np, &products, &from_update));
    if (np != n) np = 0;
  }
  const std::vector<PetscInt> header = {kMagic, kVersion, n, rows_of(dm), np, from_update ? 1 : 0};
  std::vector<Vec> all(vecs, vecs + n);  // natural order, as VecView of a DMDA vector writes
  if (np > 0) all.insert(all.end(), products, products + np);
  const std::string error = write_natural_vecs(path, dm, header, all);
  if (!error.empty()) throw InputError(error);
}

std::string read_recycle_space(const std::string& path, DM dm, std::vector<OwnedVec>& space, SpaceState* state) {
  space.clear();
  if (state) *state = SpaceState{};
  const MPI_Comm comm = PetscObjectComm((PetscObject)dm);
  const long long size = file_size(comm, path);
  if (size < 0) return "";  // a checkpoint written before spaces were saved: no space
  PetscInt header[kHeaderLength] = {0, 0, 0, 0}, extra[kStateLength] = {0, 0};
  PetscInt got = 0;
  OwnedViewer viewer = open_binary_viewer(comm, path, FILE_MODE_READ);
  if (size >= expected_size(0, 0))  // all ranks get rank 0's header
    BILEARN_CHECK(PetscViewerBinaryRead(viewer, header, kHeaderLength, &got, PETSC_INT));
  if (got == kHeaderLength && header[0] == kMagic && header[1] >= 2 && size >= expected_size(0, 0, 2))
    BILEARN_CHECK(PetscViewerBinaryRead(viewer, extra, kStateLength, nullptr, PETSC_INT));
  const std::string reason = check_header(path, header, got, rows_of(dm), size, extra[0]);
  if (!reason.empty()) return reason;
  for (PetscInt j = 0; j < header[2]; ++j) {
    space.push_back(create_vec(dm));
    BILEARN_CHECK(VecLoad(space.back(), viewer));
  }
  std::vector<OwnedVec> products;
  for (PetscInt j = 0; j < extra[0]; ++j) {
    products.push_back(create_vec(dm));
    BILEARN_CHECK(VecLoad(products.back(), viewer));
  }
  if (state) {
    state->products = std::move(products);
    state->from_update = extra[1] != 0;
  }
  return "";
}

void seed_recycle_space(KSP ksp, const std::vector<OwnedVec>& space, const SpaceState* state) {
  if (space.empty() || !is_recycling(ksp)) return;
  std::vector<Vec> vecs, products;
  for (const auto& v : space) vecs.push_back(v.get());
  if (state)
    for (const auto& v : state->products) products.push_back(v.get());
  const bool with_products = products.size() == vecs.size();
  BILEARN_CHECK(KSPRecycleSetSpaceState(ksp, static_cast<PetscInt>(vecs.size()), vecs.data(),
                                        with_products ? products.data() : nullptr,
                                        state && state->from_update ? PETSC_TRUE : PETSC_FALSE));
}

}  // namespace bilearn::krylov
