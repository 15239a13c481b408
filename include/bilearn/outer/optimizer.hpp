// Outer optimisers behind one interface (-outer_type gd | adam | lbfgs | fuse), docs/algorithms.md §5.
// An optimiser owns its state (step size, moments, curvature pairs, phase); the trainer owns
// the loop, the history, the checkpoints and the stopping tests. All state is saved exactly
// (doubles as hex-floats), so a resumed run repeats the uninterrupted one bit for bit.
#pragma once
#include <petscviewer.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bilearn/core/registry.hpp"
#include "bilearn/outer/oracle.hpp"

namespace bilearn {

struct StepOutcome {
  bool accepted = false;
  PetscReal step = 0;             // α of the accepted step (Adam: its learning rate)
  PetscInt backtracks = 0;        // rejected trials in this step
  bool direction_failed = false;  // L-BFGS: its quasi-Newton direction failed the line search
  std::string message;            // why the step failed (when !accepted)
  std::string phase;              // which method took the step (FUSE); empty: Optimizer::phase()
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual std::string name() const = 0;
  // What the history's `phase` column shows (FUSE: adam or lbfgs).
  virtual std::string phase() const { return name(); }
  // Accuracy of the initial evaluation (0: the oracle's policy), e.g. ε₀ for inexact Armijo.
  virtual PetscReal initial_tolerance() const { return 0; }
  // Called once after the initial full evaluation (oracle.current()); may re-evaluate it
  // (Adam on mini-batches evaluates the first batch).
  virtual void start(Oracle& /*oracle*/) {}
  // One outer step from oracle.current(). On acceptance oracle.current() is the new iterate,
  // evaluated with gradient; on failure it is left a valid iterate (possibly re-evaluated).
  virtual StepOutcome step(Oracle& oracle, PetscInt iteration) = 0;
  // Forgets curvature/moment memory (FUSE calls it when it changes phase).
  virtual void reset() {}
  virtual nlohmann::json save() const = 0;
  virtual void load(const nlohmann::json& state) = 0;
  // Lines for the log since the last call (e.g. "FUSE: switch to L-BFGS ...").
  virtual std::vector<std::string> take_messages() { return {}; }
  // Fields for the summary (e.g. FUSE switch iteration and criterion).
  virtual nlohmann::json summary() const { return nlohmann::json::object(); }
  // What was configured (-outer_view): the name here, the trainer adds the loop's options.
  virtual void view(PetscViewer viewer) const;
};

// The optimiser family: name → create function (-outer_type lists the names). A new optimiser
// is one file and one add() line in src/outer/optimizer_factory.cpp.
using OptimizerRegistry = Registry<std::unique_ptr<Optimizer>, const OuterOptions&, PetscInt>;
OptimizerRegistry& optimizer_registry();

// The optimiser chosen by opts.type (and opts.ls for gd). num_samples sizes mini-batches.
std::unique_ptr<Optimizer> create_optimizer(const OuterOptions& opts, PetscInt num_samples);

std::unique_ptr<Optimizer> create_gradient_descent(const OuterOptions& opts);
std::unique_ptr<Optimizer> create_adam(const OuterOptions& opts, PetscInt num_samples);
std::unique_ptr<Optimizer> create_lbfgs(const OuterOptions& opts);
std::unique_ptr<Optimizer> create_fuse(const OuterOptions& opts, PetscInt num_samples);

}  // namespace bilearn
