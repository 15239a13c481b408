// Everything a command needs, built from the options in the order the data flows:
// sample groups → grid → forward model → training set → regulariser → bilevel problem →
// hypergradient estimator. -samples_groups G splits the ranks into G groups (PetscSubcomm,
// contiguous); each group owns samples g, g+G, g+2G, … on a grid of its own.
#pragma once
#include <memory>
#include <vector>

#include "bilearn/hypergrad/bilevel_problem.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/problem/dataset.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "bilearn/reg/regulariser.hpp"

namespace bilearn {

struct SampleGroups {
  PetscInt count = 1;                      // G
  PetscInt index = 0;                      // this rank's group
  MPI_Comm group = MPI_COMM_NULL;          // ranks of this group (owned)
  MPI_Comm across_groups = MPI_COMM_NULL;  // same rank in every group (owned)
  SampleGroups() = default;
  SampleGroups(const SampleGroups&) = delete;
  SampleGroups& operator=(const SampleGroups&) = delete;
  ~SampleGroups();
};

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
  std::unique_ptr<HypergradientEstimator> estimator;
};

// Builds the workspace on comm (normally PETSC_COMM_WORLD). Collective.
std::unique_ptr<Workspace> build_workspace(MPI_Comm comm);

}  // namespace bilearn
