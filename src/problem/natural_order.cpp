#include "bilearn/problem/natural_order.hpp"

#include <stdexcept>
#include <string>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

// An IS on comm holding, for the natural indices [begin, end), the grid's PETSc index.
OwnedIS petsc_of_natural(const ImageGrid& grid, MPI_Comm comm, PetscInt begin, PetscInt end) {
  const std::vector<PetscInt> idx = grid.petsc_indices(begin, end);
  OwnedIS is;
  BILEARN_CHECK(ISCreateGeneral(comm, end - begin, idx.data(), PETSC_COPY_VALUES, is.out()));
  return is;
}

// Rank 0's copy of a whole vector (size of v on rank 0, empty elsewhere) and the scatter.
struct OnZero {
  OwnedScatter scatter;
  OwnedVec vec;
  explicit OnZero(Vec v) { BILEARN_CHECK(VecScatterCreateToZero(v, scatter.out(), vec.out())); }
};

}  // namespace

OwnedMat natural_ordered_matrix(const ForwardModel& model, const ImageGrid& grid) {
  Mat A = model.A;
  const MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscInt row_begin = 0, row_end = 0, col_begin = 0, col_end = 0, rows = 0, cols = 0;
  BILEARN_CHECK(MatGetSize(A, &rows, &cols));
  BILEARN_CHECK(MatGetOwnershipRange(A, &row_begin, &row_end));
  BILEARN_CHECK(MatGetOwnershipRangeColumn(A, &col_begin, &col_end));
  if (cols != grid.pixels() || (model.data_on_grid && rows != grid.pixels()))
    throw std::logic_error("natural_ordered_matrix: A does not match the grid");
  // MatPermute: the index sets map a row/column of the permuted matrix to the original's.
  OwnedIS rowp;
  if (model.data_on_grid)
    rowp = petsc_of_natural(grid, comm, row_begin, row_end);
  else
    BILEARN_CHECK(ISCreateStride(comm, row_end - row_begin, row_begin, 1, rowp.out()));
  OwnedIS colp = petsc_of_natural(grid, comm, col_begin, col_end);
  OwnedMat C;
  BILEARN_CHECK(MatPermute(A, rowp, colp, C.out()));
  return C;
}

std::vector<PetscScalar> gather_data_natural(const ForwardModel& model, const ImageGrid& grid, Vec data) {
  if (model.data_on_grid) return grid.gather_natural(data);
  OnZero zero(data);
  BILEARN_CHECK(VecScatterBegin(zero.scatter, data, zero.vec, INSERT_VALUES, SCATTER_FORWARD));
  BILEARN_CHECK(VecScatterEnd(zero.scatter, data, zero.vec, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt m = 0;
  BILEARN_CHECK(VecGetLocalSize(zero.vec, &m));
  ConstVecArray a(zero.vec);
  return std::vector<PetscScalar>(a.data(), a.data() + m);
}

void set_data_from_natural(const ForwardModel& model, const ImageGrid& grid, const std::vector<PetscScalar>& natural,
                           Vec data) {
  const MPI_Comm comm = PetscObjectComm((PetscObject)data);
  PetscMPIInt rank = 0;
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  PetscInt m = 0;
  BILEARN_CHECK(VecGetSize(data, &m));
  long long given = rank == 0 ? static_cast<long long>(natural.size()) : 0;
  BILEARN_CHECK(MPI_Bcast(&given, 1, MPI_LONG_LONG, 0, comm));  // rank 0's verdict for everyone
  require(given == m, "data in natural order has " + std::to_string(given) + " entries, the forward model '" +
                          model.name + "' needs " + std::to_string(m));

  OwnedVec natural_vec;  // the target of the scatter from rank 0: data itself or a natural image
  if (model.data_on_grid) BILEARN_CHECK(DMDACreateNaturalVector(grid.dm(), natural_vec.out()));
  Vec target = model.data_on_grid ? natural_vec.get() : data;
  OnZero zero(target);
  if (rank == 0) {
    VecArray a(zero.vec);
    for (PetscInt i = 0; i < m; ++i) a[i] = natural[static_cast<size_t>(i)];
  }
  BILEARN_CHECK(VecScatterBegin(zero.scatter, zero.vec, target, INSERT_VALUES, SCATTER_REVERSE));
  BILEARN_CHECK(VecScatterEnd(zero.scatter, zero.vec, target, INSERT_VALUES, SCATTER_REVERSE));
  if (model.data_on_grid) {
    BILEARN_CHECK(DMDANaturalToGlobalBegin(grid.dm(), natural_vec, INSERT_VALUES, data));
    BILEARN_CHECK(DMDANaturalToGlobalEnd(grid.dm(), natural_vec, INSERT_VALUES, data));
  }
}

}  // namespace bilearn
