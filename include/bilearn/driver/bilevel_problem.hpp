// The bilevel problem over the training samples this group of ranks owns (docs/algorithms.md §3):
//   L(θ) = (1/S) Σ_s ½‖x̂_s(θ) − x†_s‖²,   x̂_s(θ) = argmin_x Φ_s(x, θ).
// Keeps the per-sample state between calls: the warm start x̂_s and the adjoint warm start
// w_s (the hypergradient KSPs belong to the estimator). θ is an argument of reconstruct(),
// handed on to the lower solver; nothing stores it. Sums over samples are reduced over the
// ranks of other sample groups with across_groups.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bilearn/hypergrad/sample_problem.hpp"
#include "bilearn/lower/batched_lower_objective.hpp"
#include "bilearn/lower/cold_start.hpp"
#include "bilearn/lower/lower_objective.hpp"
#include "bilearn/lower/lower_solver.hpp"

namespace bilearn {

class BilevelProblem : public SampleProblem {
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

  // SampleProblem
  PetscReal reconstruct(const std::vector<PetscReal>& theta, EvaluationStats& stats) override;
  std::vector<SampleState>& samples() noexcept override { return samples_; }
  bool is_active(const SampleState& s) const override { return active_[static_cast<size_t>(&s - samples_.data())]; }
  PetscInt active_total() const noexcept override { return active_total_; }
  LowerObjective& objective() noexcept override { return objective_; }
  const ImageGrid& grid() const noexcept override { return grid_; }
  PetscInt num_params() const override;
  void raise_if_any_failed(bool failed_here, const std::string& message) const override;
  void sum_over_groups(std::vector<PetscReal>& partial) const override;

  PetscInt total_samples() const noexcept { return total_samples_; }
  LowerSolver& lower_solver() noexcept { return solver_; }
  MPI_Comm across_groups() const noexcept { return across_groups_; }

  // Restricts evaluations to the samples with these global indices (a mini-batch); an
  // empty list means all samples. L and ∇L are then means over the active samples.
  void set_active_samples(const std::vector<PetscInt>& global_indices);

  // When a lower-level solve fails (NumericalError), reconstruct() either throws it on
  // every rank (default, after reducing the verdict over groups) or, when tolerant, returns
  // a non-finite loss so that a line search can reject the trial point.
  void set_tolerate_failures(bool tolerate) noexcept { tolerate_failures_ = tolerate; }

  // -lower_recycle_seed hyper: where a recycling Newton KSP takes the sample's space from
  // (the estimator's KSP of the sample, or null). Unset: no seeding.
  using SpaceSource = std::function<KSP(const SampleState&)>;
  void set_space_source(SpaceSource source) { space_source_ = std::move(source); }

  PetscReal sum_over_groups(PetscReal partial) const;
  PetscReal mean_psnr() const;
  // Products with A or Aᵀ of this group so far (per sample; the cost unit of benchmarks).
  PetscInt operator_applications() const;
  // Whether the last reconstruct() solved the group's samples together (-lower_batch).
  bool solved_as_batch() const noexcept { return solved_as_batch_; }
  Batch batch() noexcept override;

 private:
  const ImageGrid& grid_;
  Regulariser& reg_;
  LowerObjective objective_;
  LowerSolver solver_;
  ColdStart cold_start_;  // continuation in θ for samples without a warm start
  std::vector<SampleState> samples_;
  std::vector<bool> active_;  // per owned sample
  PetscInt total_samples_;
  PetscInt active_total_;
  bool tolerate_failures_ = false;
  bool seed_newton_ = false;  // -lower_recycle_seed hyper: Newton space seeded from the sample's
  MPI_Comm across_groups_;
  OwnedVec work_;
  SpaceSource space_source_;

  // -lower_batch: the group's samples solved as one stacked problem (docs/algorithms.md §4.7).
  bool batch_enabled_ = true;
  bool solved_as_batch_ = false;
  bool batch_usable() const;
  void build_batch();
  PetscReal reconstruct_batch(const std::vector<PetscReal>& theta, EvaluationStats& stats);
  struct Batch {
    std::vector<std::unique_ptr<Regulariser>> regularisers;  // one per sample: each its own point
    std::vector<std::unique_ptr<LowerObjective>> objectives;
    std::unique_ptr<BatchedLowerObjective> objective;
    std::unique_ptr<LowerSolver> solver;
    OwnedVec x, work, truth;
  };
  std::unique_ptr<Batch> batch_;
};

}  // namespace bilearn
