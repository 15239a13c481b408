// The forward operator A of a problem: a PETSc Mat mapping a grid image (DMDA global
// vector) to a data vector. Chosen by -problem; built by create_forward_model.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/core/image_grid.hpp"
#include "bilearn/core/registry.hpp"
#include "bilearn/problem/explicit_transpose.hpp"

namespace bilearn {

struct ForwardModel {
  std::string name;  // e.g. "tomo (parallel beam)", shown in summaries
  OwnedMat A;        // rows: data; columns: pixels in the grid's PETSc ordering
  // true when the data is itself an image on the grid (blur, inpaint, denoise): the rows
  // then use the grid's PETSc ordering; false for data whose rows are already in natural
  // order (tomography: angle-major, row = angle·rays + ray; user matrices).
  bool data_on_grid = false;
  // Shape of the data in natural order, for pictures: (angles, rays) or (N, N).
  PetscInt data_rows = 0;
  PetscInt data_cols = 0;
  // How PC circulant should model AᵀA (-pc_circulant_kernel overrides): "corners" (impulse
  // responses, for operators close to a convolution: tomography, blur, identity) or "diagonal"
  // (mean of diag(AᵀA): masks, user matrices). docs/algorithms.md §4.5.
  std::string circulant_kernel = "corners";
  // The numbers that fix the data geometry, named after the options that set them (tomo:
  // tomo_angles, tomo_angle_start, tomo_angle_range, tomo_rays, tomo_width, and for fan beam
  // tomo_source_distance, tomo_detector_distance). Data set files store them as attributes;
  // loading a file made with other values is an error. Empty for the other models.
  std::vector<std::pair<std::string, PetscReal>> geometry;
  // In `bilearn serve`: the key of this operator in the service's cache (operator_cache.hpp),
  // under which values derived from it (PC circulant's symbol, Lipschitz estimates) are kept for
  // later jobs. "" outside the service and for operators read from files: nothing is kept.
  std::string cache_key;
};

// Options shared by every command: -problem, -problem_n and the storage of Aᵀ
// (-problem_store_transpose, -problem_transpose_max_mb).
struct ProblemOptions {
  std::string type = "tomo";  // tomo | blur | inpaint | denoise | matrix
  PetscInt n = 64;
  TransposeOptions transpose;
};
ProblemOptions read_problem_options(MPI_Comm comm);

// The forward-model family: name → a function that reads the type's own options (e.g.
// -tomo_*, -blur_*) and builds A on the grid. -problem lists the names; a new model is one
// file (src/problem/<name>_model.cpp) and one add() line in src/problem/forward_model.cpp.
using ForwardModelRegistry = Registry<ForwardModel, const ImageGrid&>;
ForwardModelRegistry& forward_model_registry();

// Builds A for options.type on grid (the registry's member), stores Aᵀ as options.transpose asks
// (-problem_store_transpose auto|true|false) and prints it with -problem_view.
ForwardModel create_forward_model(const ImageGrid& grid, const ProblemOptions& options);

// What was built: name, image and data sizes, the matrix type and nonzeros, the circulant hint.
void view_forward_model(const ForwardModel& model, const ImageGrid& grid, PetscViewer viewer);

}  // namespace bilearn
