// What a hypergradient estimator sees of the training samples (docs/algorithms.md §3): the
// per-sample state, the lower-level objective and reductions over sample groups. The
// sample-parallel driver (driver/bilevel_problem.hpp) implements it; θ is passed to every
// call, nothing here holds it.
#pragma once
#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/batched_lower_objective.hpp"
#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

struct SampleState {
  PetscInt index = 0;   // global sample number
  Vec truth = nullptr;  // x†_s (borrowed)
  Vec data = nullptr;   // y_s (borrowed)
  OwnedVec x_hat;       // current reconstruction / lower-level warm start
  // θ at which the lower level last solved for x_hat (empty: unknown, e.g. loaded from a file).
  std::vector<PetscReal> solved_theta;
  OwnedVec adjoint;     // w_s: solution of H w = x̂ − x†, warm start of the next solve
  PetscReal loss = 0;   // ½‖x̂ − x†‖²
  PetscReal psnr = 0;   // 10 log10(max(x†)² / mean squared error)
};

// Counters of one evaluation (summed over samples and groups).
struct EvaluationStats {
  PetscInt lower_iterations = 0;
  PetscInt krylov_iterations = 0;
  PetscInt hessian_products = 0;
  PetscReal lower_seconds = 0;
  PetscReal krylov_seconds = 0;
  PetscReal mixed_seconds = 0;
  PetscInt mixed_products = 0;  // J v products of the hypergradient
  PetscInt gradient_steps = 0;  // steps of the gradient map x − τ∇Φ (gradient_map.hpp)
  // Held, not summed (add() keeps the larger): the gradient map's stored iterates (vectors, and
  // MiB of this rank's share), its step τ and the Lipschitz estimate τ came from.
  PetscInt stored_vectors = 0;
  PetscReal stored_mb = 0;
  PetscReal gradient_step = 0;
  PetscReal lipschitz = 0;
  void add(const EvaluationStats& o);
};

// s.loss = ½‖x − x†‖² and s.psnr of the reconstruction x (work: an image-sized vector).
void record_sample_quality(SampleState& s, Vec x, Vec work);

class SampleProblem {
 public:
  virtual ~SampleProblem() = default;

  // Solves every active owned sample's lower level at θ, warm started. Returns the upper loss
  // L(θ) over the active samples (reduced over groups). Collective.
  virtual PetscReal reconstruct(const std::vector<PetscReal>& theta, EvaluationStats& stats) = 0;

  virtual std::vector<SampleState>& samples() noexcept = 0;  // this group's samples
  virtual bool is_active(const SampleState& s) const = 0;
  virtual PetscInt active_total() const noexcept = 0;  // active samples over all groups
  virtual LowerObjective& objective() noexcept = 0;    // shared by this group's samples
  virtual const ImageGrid& grid() const noexcept = 0;
  virtual PetscInt num_params() const = 0;

  // Throws NumericalError on every rank if failed_here holds on any rank of any group
  // (message: the local one, or a pointer to the group that failed). Collective.
  virtual void raise_if_any_failed(bool failed_here, const std::string& message) const = 0;
  // Σ over groups of a per-group partial sum (every rank gets the total).
  virtual void sum_over_groups(std::vector<PetscReal>& partial) const = 0;

  // When the last reconstruct() solved this group's samples together (-lower_batch,
  // docs/algorithms.md §4.7): the stacked objective, linearisable at the stacked x̂, and the
  // stacked x†, in the order of samples(). Otherwise objective is null.
  struct Batch {
    BatchedLowerObjective* objective = nullptr;
    Vec x_hat = nullptr;
    Vec truth = nullptr;
  };
  virtual Batch batch() noexcept { return {}; }
};

}  // namespace bilearn
