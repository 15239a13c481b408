#include "bilearn/problem/forward_model.hpp"

#include <utility>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/operators.hpp"

namespace bilearn {

ProblemOptions read_problem_options(MPI_Comm comm) {
  ProblemOptions o;
  {
    OptionsBlock block(comm, "", "Problem (forward model and image size)");
    o.type = block.choice("-problem", "forward model", {"tomo", "blur", "inpaint", "denoise", "matrix"}, o.type);
    o.n = block.integer("-problem_n", "image side N (N×N pixels)", o.n, 1);
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

namespace {
ForwardModel create_model_of_type(const ImageGrid& grid, const ProblemOptions& options) {
  if (options.type == "tomo") return create_xray_model(grid);
  if (options.type == "blur") return create_blur_model(grid);
  if (options.type == "inpaint") return create_inpaint_model(grid);
  if (options.type == "denoise") return create_identity_model(grid);
  if (options.type == "matrix") return create_matrix_model(grid);
  throw InputError("unknown problem type '" + options.type + "'");
}
}  // namespace

ForwardModel create_forward_model(const ImageGrid& grid, const ProblemOptions& options) {
  log::ScopedStage stage(log::stages().setup);
  ForwardModel model = create_model_of_type(grid, options);
  apply_transpose_options(model.A, options.transpose);
  return model;
}

}  // namespace bilearn
