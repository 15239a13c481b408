#include "bilearn/problem/forward_model.hpp"

#include <utility>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/folded_operator.hpp"
#include "bilearn/problem/operator_cache.hpp"
#include "bilearn/problem/operators.hpp"

namespace bilearn {

ProblemOptions read_problem_options(MPI_Comm comm) {
  ProblemOptions o;
  {
    OptionsBlock block(comm, "", "Problem (forward model and image size)");
    o.type = block.choice("-problem", "forward model", forward_model_registry().names(), o.type);
    o.n = block.integer("-problem_n", "image side N (N×N pixels)", o.n, 1);
    block.view_option("-problem_view", "print the configured forward model");
  }
  o.transpose = read_transpose_options(comm);
  return o;
}

void set_data_on_grid(ForwardModel& model, const ImageGrid& grid, std::string name) {
  model.name = std::move(name);
  model.data_on_grid = true;
  model.data_rows = grid.n();
  model.data_cols = grid.n();
}

ForwardModelRegistry& forward_model_registry() {
  static ForwardModelRegistry registry = [] {
    ForwardModelRegistry r("forward model");
    r.add("tomo", create_xray_model);
    r.add("blur", create_blur_model);
    r.add("inpaint", create_inpaint_model);
    r.add("denoise", create_identity_model);
    r.add("matrix", create_matrix_model);
    return r;
  }();
  return registry;
}

ForwardModel create_forward_model(const ImageGrid& grid, const ProblemOptions& options) {
  log::ScopedStage stage(log::stages().setup);
  // In `bilearn serve`, an operator of an earlier job with the same geometry (operator_cache.hpp).
  OperatorCache* cache = active_operator_cache();
  const std::string key = cache ? operator_cache_key(grid, options) : std::string();
  ForwardModel model;
  if (key.empty() || !cache->find(key, model)) {
    model = forward_model_registry().create(options.type, grid);
    // A folded operator stores its parts A_p: its transpose, the A_pᵀ (folded_operator.hpp).
    if (is_folded(model.A)) {
      for (Mat part : folded_parts(model.A)) apply_transpose_options(part, options.transpose);
    } else {
      apply_transpose_options(model.A, options.transpose);
    }
    if (!key.empty()) cache->store(grid.comm(), key, model);
  }
  model.cache_key = key;  // values derived from A are kept under it (even when A itself was too large)
  view_from_options("problem_", "-view", [&](PetscViewer viewer) { view_forward_model(model, grid, viewer); });
  return model;
}

void view_forward_model(const ForwardModel& model, const ImageGrid& grid, PetscViewer viewer) {
  PetscInt rows, cols;
  MatType type;
  MatInfo info;
  BILEARN_CHECK(MatGetSize(model.A, &rows, &cols));
  BILEARN_CHECK(MatGetType(model.A, &type));
  PetscBool has_info = PETSC_FALSE;
  BILEARN_CHECK(MatHasOperation(model.A, MATOP_GETINFO, &has_info));
  if (has_info) BILEARN_CHECK(MatGetInfo(model.A, MAT_GLOBAL_SUM, &info));
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "Forward model: %s\n", model.name.c_str()));
  BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "image %d x %d, data %d x %d (%s)\n", (int)grid.n(), (int)grid.n(),
                                       (int)model.data_rows, (int)model.data_cols,
                                       model.data_on_grid ? "on the image grid" : "natural order"));
  if (has_info)
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "A: %d x %d, type %s, %.0f nonzeros\n", (int)rows, (int)cols, type,
                                         (double)info.nz_used));
  else
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "A: %d x %d, type %s\n", (int)rows, (int)cols, type));
  if (is_folded(model.A))
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "stored folded by its symmetry: %d parts (-tomo_fold)\n",
                                         static_cast<int>(folded_parts(model.A).size())));
  BILEARN_CHECK(
      PetscViewerASCIIPrintf(viewer, "circulant preconditioner kernel: %s\n", model.circulant_kernel.c_str()));
  BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
}

}  // namespace bilearn
