#include "bilearn/io/natural_vec_file.hpp"

#include <memory>
#include <stdexcept>

#include "bilearn/core/image_grid.hpp"
#include "bilearn/io/checked_file.hpp"

namespace bilearn {

std::string write_natural_vecs(const std::string& path, DM dm, const std::vector<PetscInt>& header,
                               const std::vector<Vec>& vecs) {
  const MPI_Comm comm = PetscObjectComm((PetscObject)dm);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::unique_ptr<CheckedFile> file;
  std::string error;
  // Rank 0's file operations; after the first failure only the (collective) gathers go on.
  auto on_rank0 = [&](auto&& body) {
    if (rank != 0 || !error.empty()) return;
    try {
      body();
    } catch (const std::exception& e) {
      error = e.what();
    }
  };
  on_rank0([&] {
    file = std::make_unique<CheckedFile>(path);
    if (!header.empty()) file->write_petsc_ints(header.data(), header.size());
  });
  for (Vec v : vecs) {
    const std::vector<PetscScalar> natural = gather_natural(dm, v);
    on_rank0([&] { file->write_petsc_vec(natural.data(), static_cast<PetscInt>(natural.size())); });
  }
  on_rank0([&] { file->close(false); });
  long long length = static_cast<long long>(error.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
  error.resize(static_cast<size_t>(length));
  if (length > 0) MPI_Bcast(error.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
  return error;
}

}  // namespace bilearn
