#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"

namespace bilearn {

std::unique_ptr<HypergradientEstimator> create_estimator(MPI_Comm comm) {
  OptionsBlock block(comm, "hyper_", "Hypergradient");
  const std::string method = block.choice("-method", "hypergradient estimator", {"implicit", "fd"}, "implicit");
  const PetscReal step = block.real("-fd_step", "step in theta for -hyper_method fd", 1e-4, 0.0, 1.0);
  if (method == "fd") return create_fd_estimator(step);
  return create_implicit_estimator();
}

}  // namespace bilearn
