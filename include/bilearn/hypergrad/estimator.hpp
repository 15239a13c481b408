// Hypergradient estimators behind one interface, chosen by -hyper_method (ALGORITHMS.md §3):
//   implicit  Krylov solve of H w = x̂ − x† per sample, ∇L = −(1/S) Σ_s J_s w_s
//   fd        central finite differences of L(θ) (for checking; 2p lower-level solves per sample)
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "bilearn/hypergrad/bilevel_problem.hpp"

namespace bilearn {

struct UpperEvaluation {
  PetscReal loss = 0;               // L(θ)
  std::vector<PetscReal> gradient;  // ∇L(θ) (empty if not requested)
  EvaluationStats stats;
};

class HypergradientEstimator {
 public:
  virtual ~HypergradientEstimator() = default;
  virtual std::string name() const = 0;
  // Reconstructs every sample at θ and, if need_gradient, estimates ∇L(θ). Collective.
  virtual UpperEvaluation evaluate(BilevelProblem& problem, const std::vector<PetscReal>& theta,
                                   bool need_gradient) = 0;
};

// Reads -hyper_method (implicit | fd) and the method's own options.
std::unique_ptr<HypergradientEstimator> create_estimator(MPI_Comm comm);

std::unique_ptr<HypergradientEstimator> create_implicit_estimator();
std::unique_ptr<HypergradientEstimator> create_fd_estimator(PetscReal step);

}  // namespace bilearn
