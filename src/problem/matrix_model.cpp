// A user matrix from a PETSc binary file (-matrix_file F): an AIJ matrix whose columns are
// the pixels in NATURAL order (as `bilearn operator --write` writes them), rows = data.
// Rank 0 validates the whole file first (class id, N² columns, size, row lengths, column
// indices), so that a missing, garbled or wrong-size file is one InputError naming the
// file on every rank and never a failure inside MatLoad on some ranks only. After MatLoad
// the columns are permuted to the grid's PETSc ordering so that MatMult applies to grid
// vectors: A_grid(:, petsc(p)) = A_file(:, p).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/problem/operators.hpp"

namespace bilearn {
namespace {

std::int32_t big_endian_int32(const unsigned char* b) {
  return static_cast<std::int32_t>(std::uint32_t(b[0]) << 24 | std::uint32_t(b[1]) << 16 | std::uint32_t(b[2]) << 8 |
                                   std::uint32_t(b[3]));
}

// Reads `count` big-endian int32 values in chunks and hands each to check(value, k); stops
// at the first value check rejects. Returns false if the file ended early or check failed.
template <class Check>
bool scan_ints(std::ifstream& in, long long count, Check&& check) {
  std::vector<unsigned char> buffer(4 * 65536);
  for (long long k = 0; k < count;) {
    const long long chunk = std::min<long long>(count - k, 65536);
    if (!in.read(reinterpret_cast<char*>(buffer.data()), 4 * chunk)) return false;
    for (long long i = 0; i < chunk; ++i, ++k)
      if (!check(big_endian_int32(buffer.data() + 4 * i), k)) return false;
  }
  return true;
}

struct MatrixHeader {
  std::int32_t rows = 0, cols = 0, nnz = 0;
};

// Rank 0 validates the file; returns "" or the reason it is unusable (on rank 0 only).
std::string validate_on_rank0(const std::string& path, PetscInt n, MatrixHeader& h) {
  char reason[PETSC_MAX_PATH_LEN + 256];
  auto fail = [&](const char* format, auto... args) {
    std::snprintf(reason, sizeof(reason), format, path.c_str(), args...);
    return std::string(reason);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open matrix file '%s'");
  unsigned char header[16];
  if (!in.read(reinterpret_cast<char*>(header), sizeof(header)))
    return fail("matrix file '%s' is not a PETSc binary matrix (too short)");
  if (big_endian_int32(header) != MAT_FILE_CLASSID) return fail("matrix file '%s' is not a PETSc binary matrix");
  h.rows = big_endian_int32(header + 4);
  h.cols = big_endian_int32(header + 8);
  h.nnz = big_endian_int32(header + 12);
  if (h.rows <= 0 || h.cols <= 0 || h.nnz < 0)
    return fail("matrix file '%s' has a corrupt header (%d rows, %d columns, %d nonzeros)", (int)h.rows, (int)h.cols,
                (int)h.nnz);
  if (static_cast<long long>(h.cols) != static_cast<long long>(n) * n)
    return fail("matrix file '%s' has %d columns, the %lldx%lld grid needs %lld", (int)h.cols, (long long)n,
                (long long)n, (long long)n * n);
  in.seekg(0, std::ios::end);
  const long long bytes = static_cast<long long>(in.tellg());
  const long long expected = 16 + 4LL * h.rows + 12LL * h.nnz;  // header, row lengths, columns, doubles
  if (bytes != expected)
    return fail("matrix file '%s' is truncated or corrupt (%lld bytes, expected %lld)", bytes, expected);
  in.seekg(16);
  long long total = 0;
  const bool lengths_ok = scan_ints(in, h.rows, [&](std::int32_t len, long long) {
    total += len;
    return len >= 0 && len <= h.cols;
  });
  if (!lengths_ok || total != h.nnz) return fail("matrix file '%s' is corrupt (bad row lengths)");
  const bool columns_ok = scan_ints(in, h.nnz, [&](std::int32_t col, long long) { return col >= 0 && col < h.cols; });
  if (!columns_ok) return fail("matrix file '%s' is corrupt (column index out of range)");
  return "";
}

// Every rank gets rank 0's verdict and header. Collective.
MatrixHeader validate_matrix_file(MPI_Comm comm, const std::string& path, PetscInt n) {
  PetscMPIInt rank = 0;
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  MatrixHeader h;
  char reason[PETSC_MAX_PATH_LEN + 256] = "";
  if (rank == 0) std::snprintf(reason, sizeof(reason), "%s", validate_on_rank0(path, n, h).c_str());
  BILEARN_CHECK(MPI_Bcast(reason, sizeof(reason), MPI_CHAR, 0, comm));
  require(reason[0] == '\0', reason);
  std::int32_t sizes[3] = {h.rows, h.cols, h.nnz};
  BILEARN_CHECK(MPI_Bcast(sizes, 3, MPI_INT32_T, 0, comm));
  return {sizes[0], sizes[1], sizes[2]};
}

}  // namespace

ForwardModel create_matrix_model(const ImageGrid& grid) {
  const MPI_Comm comm = grid.comm();
  std::string path;
  {
    OptionsBlock block(comm, "", "User matrix forward model (-problem matrix)");
    path = block.string("-matrix_file", "PETSc binary AIJ matrix, columns = pixels in natural order", "");
  }
  require(!path.empty(), "-problem matrix needs -matrix_file F (a PETSc binary matrix)");
  const MatrixHeader h = validate_matrix_file(comm, path, grid.n());

  log::ScopedEvent event(log::events().operator_assembly);
  OwnedMat loaded;
  try {
    BILEARN_CHECK(MatCreate(comm, loaded.out()));
    BILEARN_CHECK(MatSetType(loaded, MATMPIAIJ));
    BILEARN_CHECK(MatSetSizes(loaded, PETSC_DECIDE, grid.local_size(), h.rows, h.cols));
    OwnedViewer viewer = open_binary_viewer(comm, path, FILE_MODE_READ);
    BILEARN_CHECK(MatLoad(loaded, viewer));
  } catch (const PetscFailure& e) {
    throw InputError("cannot load matrix file '" + path + "': " + e.what());
  }

  // MatPermute: column k of the result (a PETSc index of the grid) is column natural(k) of
  // the file's matrix; rows stay as they are.
  PetscInt row_begin = 0, row_end = 0;
  BILEARN_CHECK(MatGetOwnershipRange(loaded, &row_begin, &row_end));
  const std::vector<PetscInt> natural = grid.local_natural_indices();
  OwnedIS rowp, colp;
  BILEARN_CHECK(ISCreateStride(comm, row_end - row_begin, row_begin, 1, rowp.out()));
  BILEARN_CHECK(ISCreateGeneral(comm, grid.local_size(), natural.data(), PETSC_COPY_VALUES, colp.out()));
  ForwardModel model;
  BILEARN_CHECK(MatPermute(loaded, rowp, colp, model.A.out()));
  event.end();

  model.name = "matrix (" + path + ")";
  model.data_on_grid = false;
  model.data_rows = h.rows;
  model.data_cols = 1;
  model.circulant_kernel = "diagonal";  // nothing is known of a user matrix's structure
  return model;
}

}  // namespace bilearn
