// Natural (rank-count independent) views of a forward model: A with natural rows and
// columns, and data vectors in natural order. Natural order of pixels: row-major, row 0 at
// the top (core/image_grid.hpp); natural order of data: the pixel order when model.data_on_grid, else
// the global row index (tomography: angle-major; user matrices: the file's rows).
#pragma once
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/core/image_grid.hpp"
#include "bilearn/problem/forward_model.hpp"

namespace bilearn {

// C(i, j) = A(row(i), col(j)) with row(i) = the grid's PETSc index of pixel i when
// model.data_on_grid (else i) and col(j) = the grid's PETSc index of pixel j. Same parallel
// layout as A; MatView of C to a binary viewer gives the same bytes on any rank count.
// Collective.
OwnedMat natural_ordered_matrix(const ForwardModel& model, const ImageGrid& grid);

// The data vector `data` (left vector of model.A) in natural order on rank 0; empty on the
// other ranks. Collective.
std::vector<PetscScalar> gather_data_natural(const ForwardModel& model, const ImageGrid& grid, Vec data);

// The reverse: fills `data` from `natural`, the whole data vector in natural order given on
// rank 0 (the other ranks' argument is ignored). A wrong size on rank 0 is an InputError on
// every rank. Collective.
void set_data_from_natural(const ForwardModel& model, const ImageGrid& grid, const std::vector<PetscScalar>& natural,
                           Vec data);

}  // namespace bilearn
