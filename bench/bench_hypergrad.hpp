// Internal to `bilearn bench hypergrad` (bench/bench_hypergrad.cpp runs the command and the
// accuracy table, bench/bench_hypergrad_train.cpp the training comparison): the methods of the
// table and the training comparison's rows.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/driver/workspace.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/outer/outer_options.hpp"

namespace bilearn::hypergrad_bench {

// A method of the table: an estimator name and the options it is created with.
struct Method {
  std::string label, estimator;
  std::vector<std::pair<std::string, std::string>> options;
};

const std::vector<Method>& all_methods();
// The methods of all_methods() whose labels are in the comma list (empty: all).
std::vector<Method> select_methods(const std::string& list);
// Creates the estimator with its options set for the duration of its set_from_options.
std::unique_ptr<HypergradientEstimator> create_method(MPI_Comm comm, const Method& m);

// One method's training run: K outer steps from the same θ0 and warm starts.
struct TrainRow {
  std::string method;
  std::string stop_reason;  // max_it | gtol | line_search_failed | error (no step accepted)
  std::string error;        // the failure's message when stop_reason is "error"
  PetscInt outer_iterations = 0, evaluations = 0, backtracks = 0;
  PetscReal own_loss = 0;    // the estimator's own L at the final θ (unrolled: of its K-step map)
  PetscReal tight_loss = 0;  // L(θ_K) with x̂ from the configured (tight) lower solve
  PetscReal psnr = 0;        // mean PSNR of those reconstructions (dB)
  // Cost of the whole run, summed over samples and groups: products with A and Aᵀ (value 1,
  // gradient 2, H or F product 2), their half ("H-equivalents"), products with H alone, J
  // products, hypergradient Krylov iterations, lower-level iterations (Newton; unrolled: its
  // gradient steps), gradient-map steps; wall time (slowest rank).
  PetscInt operator_applications = 0, h_products = 0, j_products = 0, krylov_its = 0, lower_its = 0, gradient_steps = 0;
  double seconds = 0;
  std::vector<PetscReal> theta;  // θ_K
  double h_equivalents() const { return 0.5 * static_cast<double>(operator_applications); }
  nlohmann::json to_json() const;
};

struct TrainComparison {
  PetscInt steps = 0;
  std::string optimizer;
  PetscReal initial_loss = 0, initial_psnr = 0;  // at θ0 (tight)
  std::vector<TrainRow> rows;
  // θ_1 … θ_k accepted by the implicit run (empty without one): where the accuracy table can
  // also be evaluated ("several θ along a training run").
  std::vector<std::vector<PetscReal>> implicit_path;
  nlohmann::json to_json() const;
};

// Trains with every method for outer.max_it steps from θ0 = ws.initial_theta, each starting from
// the reconstructions start (x̂ at θ0, one per owned sample) with zero adjoints and a fresh
// estimator; prints one line per method as it finishes and the table at the end. Leaves
// ws.estimator as the last method's. Collective.
TrainComparison compare_training(Workspace& ws, const std::vector<Method>& methods, const OuterOptions& outer,
                                 const std::vector<OwnedVec>& start);

}  // namespace bilearn::hypergrad_bench
