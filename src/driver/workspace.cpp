#include "bilearn/driver/workspace.hpp"

#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/sample_groups.hpp"

namespace bilearn {

std::unique_ptr<Workspace> build_workspace(MPI_Comm comm) {
  auto ws = std::make_unique<Workspace>();
  ws->problem = read_problem_options(comm);
  {
    OptionsBlock block(comm, "lower_", "Lower-level problem");
    ws->epsilon =
        block.real("-epsilon", "strong-convexity weight epsilon in (epsilon/2)|x|^2", 1e-4, 0.0, PETSC_INFINITY);
  }
  split_into_groups(comm, ws->groups);
  ws->grid = std::make_unique<ImageGrid>(ws->groups.group, ws->problem.n);
  ws->model = create_forward_model(*ws->grid, ws->problem);
  ws->training = make_training_set(*ws->grid, ws->model);
  ws->reg = create_regulariser(*ws->grid);
  ws->initial_theta = ws->reg->initial_theta();  // -reg_theta: the outer loop's starting point

  const PetscInt total = static_cast<PetscInt>(ws->training.truth.size());
  require(total >= ws->groups.count, "-samples_groups " + std::to_string(ws->groups.count) + " exceeds the " +
                                         std::to_string(total) + " training samples");
  std::vector<Vec> truth, data;
  std::vector<PetscInt> indices;
  for (PetscInt s = ws->groups.index; s < total; s += ws->groups.count) {
    truth.push_back(ws->training.truth[static_cast<size_t>(s)]);
    data.push_back(ws->training.data[static_cast<size_t>(s)]);
    indices.push_back(s);
  }
  ws->bilevel = std::make_unique<BilevelProblem>(*ws->grid, ws->model, *ws->reg, ws->epsilon, truth, data, indices,
                                                 total, ws->groups.across_groups);
  ws->estimator = create_estimator(comm);
  // -lower_recycle_seed hyper: a recycling Newton KSP starts from the sample's hypergradient space.
  HypergradientEstimator* estimator = ws->estimator.get();
  ws->bilevel->set_space_source([estimator](const SampleState& s) { return estimator->existing_sample_ksp(s); });
  return ws;
}

}  // namespace bilearn
