// Denoising: A = I on the grid, assembled as MATMPIAIJ (one entry per row, each rank its own
// rows) so that every problem type offers the same matrix operations.
#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/problem/operators.hpp"

namespace bilearn {

ForwardModel create_identity_model(const ImageGrid& grid) {
  const PetscInt n = grid.local_size(), begin = grid.ownership_start();
  ForwardModel model;
  log::ScopedEvent event(log::events().operator_assembly);
  BILEARN_CHECK(MatCreate(grid.comm(), model.A.out()));
  BILEARN_CHECK(MatSetSizes(model.A, n, n, grid.pixels(), grid.pixels()));
  BILEARN_CHECK(MatSetType(model.A, MATMPIAIJ));
  BILEARN_CHECK(MatMPIAIJSetPreallocation(model.A, 1, nullptr, 0, nullptr));
  BILEARN_CHECK(MatSetOption(model.A, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  BILEARN_CHECK(MatSetOption(model.A, MAT_NO_OFF_PROC_ENTRIES, PETSC_TRUE));
  const PetscScalar one = 1.0;
  for (PetscInt row = begin; row < begin + n; ++row)
    BILEARN_CHECK(MatSetValues(model.A, 1, &row, 1, &row, &one, INSERT_VALUES));
  BILEARN_CHECK(MatAssemblyBegin(model.A, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(model.A, MAT_FINAL_ASSEMBLY));
  event.end();

  set_data_on_grid(model, grid, "denoise (identity)");
  return model;
}

}  // namespace bilearn
