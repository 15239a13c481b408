// The estimator registry: one add() line per member (its file defines the create function).
#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"

namespace bilearn {

void HypergradientEstimator::view(PetscViewer viewer) const {
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "Hypergradient estimator: %s\n", name().c_str()));
}

EstimatorRegistry& estimator_registry() {
  static EstimatorRegistry registry = [] {
    EstimatorRegistry r("hypergradient estimator");
    r.add("implicit", create_implicit_estimator);
    r.add("fd", [] { return create_fd_estimator(1e-4); });
    r.add("onestep", create_onestep_estimator);
    r.add("retune", create_retune_estimator);
    r.add("unrolled", create_unrolled_estimator);
    return r;
  }();
  return registry;
}

std::unique_ptr<HypergradientEstimator> create_estimator(MPI_Comm comm) {
  std::string method;
  {
    OptionsBlock block(comm, "hyper_", "Hypergradient");
    method = block.choice("-method", "hypergradient estimator", estimator_registry().names(), "implicit");
    block.view_option("-view", "print the configured hypergradient estimator");
  }
  std::unique_ptr<HypergradientEstimator> estimator = estimator_registry().create(method);
  estimator->set_from_options(comm, "hyper_");
  estimator->set_up();
  view_from_options("hyper_", "-view", [&](PetscViewer viewer) { estimator->view(viewer); });
  return estimator;
}

}  // namespace bilearn
