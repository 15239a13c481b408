// Hypergradient estimators behind one interface, chosen by -hyper_method (docs/algorithms.md §3):
//   implicit  Krylov solve of H w = x̂ − x† per sample, ∇L = −(1/S) Σ_s J_s w_s
//   fd        central finite differences of L(θ) (for checking; 2p lower-level solves per sample)
//   onestep   differentiate the lower solver's last step only (one loose Krylov solve, or −τJ(x̂ − x†))
//   retune    K gradient steps restarted from x̂, reverse mode through them (no Hessian solve)
//   unrolled  the gradient map from x = 0 to convergence, reverse mode through every step
// Life cycle as PETSc's objects: create (the registry, by name) → set_from_options(prefix) →
// set_up → evaluate … → view (-hyper_view). An estimator owns the Krylov solvers it uses (the
// implicit one: one KSP per sample, whose recycle space persists across evaluations).
#pragma once
#include <petscksp.h>

#include <memory>
#include <string>
#include <vector>

#include "bilearn/core/registry.hpp"
#include "bilearn/hypergrad/sample_problem.hpp"

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
  // Reads the estimator's options under prefix (e.g. "hyper_"). Default: none.
  virtual void set_from_options(MPI_Comm /*comm*/, const std::string& /*prefix*/) {}
  virtual void set_up() {}
  // What was configured (-hyper_view).
  virtual void view(PetscViewer viewer) const;

  // Reconstructs every active sample at θ and, if need_gradient, estimates ∇L(θ). Collective.
  virtual UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) = 0;

  // The Krylov solver the estimator keeps for sample s, created on first use (null for an
  // estimator without one). Its recycle space is what checkpoints save and restore.
  virtual KSP sample_ksp(SampleProblem& /*problem*/, const SampleState& /*s*/) { return nullptr; }
  // The sample's solver if it exists (null before its first hypergradient).
  virtual KSP existing_sample_ksp(const SampleState& /*s*/) const { return nullptr; }
  // Relative tolerance of the Krylov solves; 0 restores the configured one.
  virtual void set_krylov_rtol(PetscReal /*rtol*/) {}
};

// The estimator family: name → create function (-hyper_method lists the names).
using EstimatorRegistry = Registry<std::unique_ptr<HypergradientEstimator>>;
EstimatorRegistry& estimator_registry();

// Reads -hyper_method, creates the estimator by name and runs its set_from_options and set_up.
std::unique_ptr<HypergradientEstimator> create_estimator(MPI_Comm comm);

std::unique_ptr<HypergradientEstimator> create_implicit_estimator();
std::unique_ptr<HypergradientEstimator> create_fd_estimator(PetscReal step);
std::unique_ptr<HypergradientEstimator> create_onestep_estimator();   // onestep_estimator.cpp
std::unique_ptr<HypergradientEstimator> create_retune_estimator();    // retune_estimator.cpp
std::unique_ptr<HypergradientEstimator> create_unrolled_estimator();  // unrolled_estimator.cpp

}  // namespace bilearn
