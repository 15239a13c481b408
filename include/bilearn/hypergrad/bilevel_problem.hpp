// The bilevel problem over the training samples this group of ranks owns (ALGORITHMS.md §3):
//   L(θ) = (1/S) Σ_s ½‖x̂_s(θ) − x†_s‖²,   x̂_s(θ) = argmin_x Φ_s(x, θ).
// Keeps per-sample state between calls: the warm start x̂_s, the adjoint warm start w_s and
// the sample's hypergradient KSP (prefix -hyper_; its recycle space persists across calls).
// Sums over samples are reduced over the ranks of other sample groups with across_groups.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/lower_objective.hpp"
#include "bilearn/lower/lower_solver.hpp"

namespace bilearn {

struct SampleState {
  PetscInt index = 0;   // global sample number
  Vec truth = nullptr;  // x†_s (borrowed)
  Vec data = nullptr;   // y_s (borrowed)
  OwnedVec x_hat;       // current reconstruction / lower-level warm start
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
  void add(const EvaluationStats& o);
};

class BilevelProblem {
 public:
  // truth/data: this group's samples (borrowed Vecs, global indices in sample_indices);
  // total_samples: S over all groups; across_groups: one rank per group with the same
  // rank inside its group (MPI_COMM_SELF when there is one group).
  BilevelProblem(const ImageGrid& grid, const ForwardModel& model, Regulariser& reg, PetscReal epsilon,
                 const std::vector<Vec>& truth, const std::vector<Vec>& data,
                 const std::vector<PetscInt>& sample_indices, PetscInt total_samples,
                 MPI_Comm across_groups = MPI_COMM_SELF);
  BilevelProblem(const BilevelProblem&) = delete;
  BilevelProblem& operator=(const BilevelProblem&) = delete;

  PetscInt num_params() const;
  PetscInt total_samples() const noexcept { return total_samples_; }
  std::vector<SampleState>& samples() noexcept { return samples_; }
  LowerObjective& objective() noexcept { return objective_; }
  LowerSolver& lower_solver() noexcept { return solver_; }
  const ImageGrid& grid() const noexcept { return grid_; }
  MPI_Comm across_groups() const noexcept { return across_groups_; }

  // Restricts evaluations to the samples with these global indices (a mini-batch); an
  // empty list means all samples. L and ∇L are then means over the active samples.
  void set_active_samples(const std::vector<PetscInt>& global_indices);
  bool is_active(const SampleState& s) const { return active_[static_cast<size_t>(&s - samples_.data())]; }
  PetscInt active_total() const noexcept { return active_total_; }

  // Sets θ (checked length) and solves every active owned sample's lower level, warm
  // started. Returns the upper loss L(θ) over the active samples (reduced over groups).
  PetscReal reconstruct(const std::vector<PetscReal>& theta, EvaluationStats& stats);

  // The sample's hypergradient KSP (created on first use with prefix -hyper_), with the
  // relative tolerance in force. With -hyper_share_space all samples of the group share one
  // KSP (one recycle space: memory of one space instead of one per sample).
  // A recycling KSP (rminres/rcg) is given the split H = (AᵀA + εI) + R_t and J.
  KSP sample_ksp(SampleState& s);
  // The sample's KSP if it exists (null before its first hypergradient).
  KSP existing_sample_ksp(const SampleState& s) const;
  // Relative tolerance of the hypergradient Krylov solves; 0 restores -hyper_ksp_rtol.
  void set_krylov_rtol(PetscReal rtol) noexcept { krylov_rtol_ = rtol; }

  // When a lower-level solve fails (NumericalError), reconstruct() either throws it on
  // every rank (default, after reducing the verdict over groups) or, when tolerant, returns
  // a non-finite loss so that a line search can reject the trial point.
  void set_tolerate_failures(bool tolerate) noexcept { tolerate_failures_ = tolerate; }
  // Throws NumericalError on every rank if failed_here holds on any rank of any group
  // (message: the local one, or a pointer to the group that failed). Collective.
  void raise_if_any_failed(bool failed_here, const std::string& message) const;

  // Called by the implicit estimator for every hypergradient system H w = rhs it is about to
  // solve (objective() is then set at s.x_hat and θ): `bench recycle` records the sequence.
  using SystemObserver = std::function<void(const SampleState& s, const std::vector<PetscReal>& theta, Vec rhs)>;
  void set_system_observer(SystemObserver observer) { observer_ = std::move(observer); }
  void observe_system(const SampleState& s, const std::vector<PetscReal>& theta, Vec rhs) const {
    if (observer_) observer_(s, theta, rhs);
  }

  // Σ over groups of a per-group partial sum (every rank gets the total).
  PetscReal sum_over_groups(PetscReal partial) const;
  void sum_over_groups(std::vector<PetscReal>& partial) const;
  PetscReal mean_psnr() const;

 private:
  const ImageGrid& grid_;
  Regulariser& reg_;
  LowerObjective objective_;
  LowerSolver solver_;
  std::vector<SampleState> samples_;
  std::vector<OwnedKSP> ksps_;  // one per owned sample, same order as samples_
  std::vector<bool> active_;    // per owned sample
  PetscInt total_samples_;
  PetscInt active_total_;
  bool tolerate_failures_ = false;
  bool share_space_ = false;   // -hyper_share_space
  bool seed_newton_ = false;   // -lower_recycle_seed hyper: Newton space seeded from the sample's
  PetscReal krylov_rtol_ = 0;             // 0: as configured
  PetscReal configured_krylov_rtol_ = 0;  // read from the first KSP's options
  MPI_Comm across_groups_;
  OwnedVec work_;
  SystemObserver observer_;
};

}  // namespace bilearn
