#include "bilearn/driver/bilevel_problem.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"

namespace bilearn {
namespace {

// A solve from an x̂ of another θ reduces ‖∇Φ‖ at least this much (LowerSolver::require_progress),
// whatever the outer loop's tolerance: with -outer_tol_lower_scale 10 at N = 16 a warm start met
// the loose tolerance after a small step in θ and Armijo saw the same loss at every trial.
constexpr PetscReal kProgressAfterMove = 0.1;

}  // namespace

void EvaluationStats::add(const EvaluationStats& o) {
  lower_iterations += o.lower_iterations;
  krylov_iterations += o.krylov_iterations;
  hessian_products += o.hessian_products;
  lower_seconds += o.lower_seconds;
  krylov_seconds += o.krylov_seconds;
  mixed_seconds += o.mixed_seconds;
  mixed_products += o.mixed_products;
  gradient_steps += o.gradient_steps;
  stored_vectors = std::max(stored_vectors, o.stored_vectors);
  stored_mb = std::max(stored_mb, o.stored_mb);
  gradient_step = std::max(gradient_step, o.gradient_step);
  lipschitz = std::max(lipschitz, o.lipschitz);
}

BilevelProblem::BilevelProblem(const ImageGrid& grid, const ForwardModel& model, Regulariser& reg, PetscReal epsilon,
                               const std::vector<Vec>& truth, const std::vector<Vec>& data,
                               const std::vector<PetscInt>& sample_indices, PetscInt total_samples,
                               MPI_Comm across_groups)
    : grid_(grid),
      reg_(reg),
      objective_(grid, model, reg, epsilon),
      solver_(objective_),
      cold_start_(grid.comm()),
      total_samples_(total_samples),
      active_total_(total_samples),
      across_groups_(across_groups) {
  require(truth.size() == data.size() && truth.size() == sample_indices.size(),
          "bilevel problem: truth, data and sample indices differ in length");
  require(total_samples > 0, "the training set is empty");
  // NaN/Inf in any sample of any group: the same verdict on every rank.
  PetscInt first_bad = total_samples;
  for (size_t k = 0; k < truth.size(); ++k) {
    PetscReal norm_truth, norm_data;
    BILEARN_CHECK(VecNorm(truth[k], NORM_2, &norm_truth));
    BILEARN_CHECK(VecNorm(data[k], NORM_2, &norm_data));
    if (!std::isfinite(norm_truth) || !std::isfinite(norm_data)) first_bad = std::min(first_bad, sample_indices[k]);
  }
  PetscInt first_bad_all = first_bad;
  MPI_Allreduce(&first_bad, &first_bad_all, 1, MPIU_INT, MPI_MIN, across_groups_);
  require(first_bad_all == total_samples,
          "training sample " + std::to_string(first_bad_all) + " contains NaN or Inf values");
  for (size_t k = 0; k < truth.size(); ++k) {
    SampleState s;
    s.index = sample_indices[k];
    s.truth = truth[k];
    s.data = data[k];
    s.x_hat = grid.create_vec();
    s.adjoint = grid.create_vec();
    BILEARN_CHECK(VecSet(s.x_hat, 0.0));
    BILEARN_CHECK(VecSet(s.adjoint, 0.0));
    samples_.push_back(std::move(s));
    active_.push_back(true);
  }
  work_ = grid.create_vec();
  {
    OptionsBlock block(grid.comm(), "", "Recycle spaces of the bilevel problem");
    seed_newton_ =
        block.choice("-lower_recycle_seed",
                     "Space a recycling Newton KSP (-lower_tao_nls_ksp_type rminres) starts each sample with: "
                     "the sample's hypergradient space, or whatever the previous solve left",
                     {"hyper", "previous"}, "hyper") == "hyper";
  }
  {
    OptionsBlock block(grid.comm(), "", "Lower-level solves of a sample group");
    batch_enabled_ = block.flag(
        "-lower_batch",
        "Solve the lower levels of a group's samples together: one Newton-Krylov solve of the stacked problem, one "
        "block product with A for all samples (not with a recycling Newton KSP or a mini-batch)",
        batch_enabled_);
  }
}

PetscInt BilevelProblem::num_params() const {
  return reg_.num_params();
}

PetscReal BilevelProblem::sum_over_groups(PetscReal partial) const {
  PetscReal total = partial;
  MPI_Allreduce(&partial, &total, 1, MPIU_REAL, MPIU_SUM, across_groups_);
  return total;
}

void BilevelProblem::sum_over_groups(std::vector<PetscReal>& partial) const {
  std::vector<PetscReal> total(partial.size());
  MPI_Allreduce(partial.data(), total.data(), static_cast<int>(partial.size()), MPIU_REAL, MPIU_SUM, across_groups_);
  partial.swap(total);
}

PetscReal BilevelProblem::mean_psnr() const {
  PetscReal sum = 0;
  for (const auto& s : samples_) sum += s.psnr;
  return sum_over_groups(sum) / static_cast<PetscReal>(total_samples_);
}

void BilevelProblem::set_active_samples(const std::vector<PetscInt>& global_indices) {
  for (PetscInt index : global_indices)
    require(index >= 0 && index < total_samples_, "sample index " + std::to_string(index) + " out of range");
  for (size_t k = 0; k < samples_.size(); ++k) {
    bool active = global_indices.empty();
    for (PetscInt index : global_indices) active = active || index == samples_[k].index;
    active_[k] = active;
  }
  active_total_ = global_indices.empty() ? total_samples_ : static_cast<PetscInt>(global_indices.size());
}

PetscReal BilevelProblem::reconstruct(const std::vector<PetscReal>& theta, EvaluationStats& stats) {
  reg_.check_theta(theta);  // a wrong θ is the caller's error, not a failed solve
  solved_as_batch_ = batch_usable();
  if (solved_as_batch_) return reconstruct_batch(theta, stats);
  PetscReal loss_sum = 0;
  std::string failure;
  for (auto& s : samples_) {
    if (!is_active(s)) continue;
    objective_.set_data(s.data);
    const double t0 = MPI_Wtime();
    if (seed_newton_ && solver_.recycling() && space_source_) {
      KSP hyper = space_source_(s);
      if (hyper) BILEARN_CHECK(KSPRecycleCopySpace(hyper, solver_.newton_ksp()));
    }
    LowerSolveResult r;
    const bool moved = s.solved_theta != theta;
    s.solved_theta.clear();
    try {
      const LowerSolveResult stage = cold_start_.prepare(solver_, theta, s.x_hat, work_);
      if (moved) solver_.require_progress(kProgressAfterMove);
      r = solver_.solve(s.x_hat, theta);
      s.solved_theta = theta;
      r.iterations += stage.iterations;
      r.hessian_products += stage.hessian_products;
    } catch (const NumericalError& e) {
      // TAO is collective over the group: every rank of the group lands here together.
      failure = "sample " + std::to_string(s.index) + ": " + e.what();
      loss_sum = PETSC_INFINITY;
      continue;
    }
    stats.lower_seconds += MPI_Wtime() - t0;
    stats.lower_iterations += r.iterations;
    stats.hessian_products += r.hessian_products;
    record_sample_quality(s, s.x_hat, work_);
    loss_sum += s.loss;
  }
  if (!tolerate_failures_) raise_if_any_failed(!failure.empty(), failure);
  return sum_over_groups(loss_sum) / static_cast<PetscReal>(active_total_);
}

// The batch needs Newton systems solved by CG (then one lockstepcg, docs/algorithms.md §4.7): a
// trust-region TAO (ntr, its stcg/nash KSP) on the stacked problem would share one radius between
// the samples (measured on the Lorentzian FD test: 3× the Newton steps and another local minimum).
bool BilevelProblem::batch_usable() const {
  if (!batch_enabled_ || samples_.size() < 2 || solver_.recycling()) return false;
  KSP newton = solver_.newton_ksp();
  PetscBool cg = PETSC_FALSE;
  if (newton) BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)newton, KSPCG, &cg));
  if (!cg) return false;
  for (bool active : active_)
    if (!active) return false;
  return true;
}

void BilevelProblem::build_batch() {
  batch_ = std::make_unique<Batch>();
  std::vector<LowerObjective*> objectives;
  std::vector<Vec> data;
  for (const auto& s : samples_) {
    batch_->regularisers.push_back(create_regulariser(grid_, false));  // the problem's own was viewed
    batch_->objectives.push_back(std::make_unique<LowerObjective>(grid_, objective_.model(),
                                                                  *batch_->regularisers.back(), objective_.epsilon()));
    objectives.push_back(batch_->objectives.back().get());
    data.push_back(s.data);
  }
  batch_->objective = std::make_unique<BatchedLowerObjective>(objectives);
  batch_->objective->set_data(data);
  batch_->solver = std::make_unique<LowerSolver>(*batch_->objective);
  batch_->x = batch_->objective->create_vec();
  batch_->work = batch_->objective->create_vec();
  batch_->truth = batch_->objective->create_vec();
  std::vector<Vec> truth;
  for (const auto& s : samples_) truth.push_back(s.truth);
  batch_->objective->gather(truth, batch_->truth);
}

SampleProblem::Batch BilevelProblem::batch() noexcept {
  if (!solved_as_batch_ || !batch_) return {};
  return {batch_->objective.get(), batch_->x, batch_->truth};
}

// All samples of the group in lockstep: x̂ gathered into the stacked vector, one solve (with the
// continuation start when every x̂ is zero), scattered back (docs/algorithms.md §4.7).
PetscReal BilevelProblem::reconstruct_batch(const std::vector<PetscReal>& theta, EvaluationStats& stats) {
  if (!batch_) build_batch();
  std::vector<Vec> x_hats;
  for (auto& s : samples_) x_hats.push_back(s.x_hat);
  BatchedLowerObjective& objective = *batch_->objective;
  LowerSolver& solver = *batch_->solver;
  solver.set_gradient_tolerance(solver_.gradient_tolerance());
  objective.gather(x_hats, batch_->x);
  const double t0 = MPI_Wtime();
  std::string failure;
  LowerSolveResult r;
  bool moved = false;
  for (auto& s : samples_) {
    moved = moved || s.solved_theta != theta;
    s.solved_theta.clear();
  }
  try {
    const LowerSolveResult stage = cold_start_.prepare(solver, theta, batch_->x, batch_->work);
    if (moved) solver.require_progress(kProgressAfterMove);
    r = solver.solve(batch_->x, theta);
    for (auto& s : samples_) s.solved_theta = theta;
    r.iterations += stage.iterations;
    r.hessian_products += stage.hessian_products;
  } catch (const NumericalError& e) {
    failure = "samples " + std::to_string(samples_.front().index) + "-" + std::to_string(samples_.back().index) +
              " (solved together, -lower_batch): " + e.what();
  }
  objective.scatter(batch_->x, x_hats);
  stats.lower_seconds += MPI_Wtime() - t0;
  // Counted per sample, as the per-sample solves are: B Newton steps per lockstep step.
  stats.lower_iterations += r.iterations * objective.blocks();
  stats.hessian_products += r.hessian_products;
  PetscReal loss_sum = 0;
  for (auto& s : samples_) {
    record_sample_quality(s, s.x_hat, work_);
    loss_sum += s.loss;
  }
  if (!failure.empty()) loss_sum = PETSC_INFINITY;
  if (!tolerate_failures_) raise_if_any_failed(!failure.empty(), failure);
  return sum_over_groups(loss_sum) / static_cast<PetscReal>(active_total_);
}

PetscInt BilevelProblem::operator_applications() const {
  PetscInt count = objective_.operator_applications();
  if (batch_) {
    count += batch_->objective->operator_applications();
    for (const auto& o : batch_->objectives) count += o->operator_applications();
  }
  return count;
}

void BilevelProblem::raise_if_any_failed(bool failed_here, const std::string& message) const {
  int here = failed_here ? 1 : 0, anywhere = 0;
  MPI_Allreduce(&here, &anywhere, 1, MPI_INT, MPI_MAX, across_groups_);
  if (!anywhere) return;
  throw NumericalError(failed_here ? message : std::string("a solve failed in another sample group"));
}

}  // namespace bilearn
