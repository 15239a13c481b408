// Everything a command needs, built from the options in the order the data flows:
// sample groups → grid → forward model → training set → regulariser → bilevel problem →
// hypergradient estimator (sample_groups.hpp: each group owns samples g, g+G, g+2G, … on a
// grid of its own). θ: the regulariser reads -reg_theta, initial_theta is where the outer loop
// (or a reconstruct/hypergrad command) starts, and from there θ travels as an argument.
#pragma once
#include <memory>
#include <vector>

#include "bilearn/driver/bilevel_problem.hpp"
#include "bilearn/driver/sample_groups.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/problem/dataset.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "bilearn/reg/regulariser.hpp"

namespace bilearn {

struct Workspace {
  ProblemOptions problem;
  PetscReal epsilon = 0;
  SampleGroups groups;
  std::unique_ptr<ImageGrid> grid;
  ForwardModel model;
  TrainingSet training;
  std::unique_ptr<Regulariser> reg;
  std::vector<PetscReal> initial_theta;
  std::unique_ptr<BilevelProblem> bilevel;
  std::unique_ptr<HypergradientEstimator> estimator;  // owns the hypergradient KSPs (after bilevel:
                                                      // destroyed first, they reference its objective)
};

// Builds the workspace on comm (normally PETSC_COMM_WORLD). Collective.
std::unique_ptr<Workspace> build_workspace(MPI_Comm comm);

}  // namespace bilearn
