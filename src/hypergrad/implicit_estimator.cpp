// Implicit hypergradient (docs/algorithms.md §3, docs/design.md): for each sample solve H w = ∇_x ℓ
// with ℓ = ½‖x − x†‖², i.e. g = x̂ − x†, by the sample's KSP (warm started from the
// previous w), then ∇L = ∂_θ ℓ − J w = −J w, averaged over samples. The estimator owns the
// KSPs (prefix -hyper_, one per sample or, with -hyper_share_space, one per group); their
// recycle spaces persist across evaluations. A warm start worse than zero, or one whose solve
// diverges, gives way to a cold start (solve_hypergradient_system, hypergradient_ksp.hpp).
#include <cmath>
#include <map>
#include <sstream>
#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/hypergrad/hypergradient_ksp.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "bilearn/lower/hessian_structure.hpp"

namespace bilearn {
namespace {

// Empty when the solve converged, else a one-line explanation.
std::string krylov_failure(KSP ksp, const SampleState& s) {
  KSPConvergedReason reason;
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
  if (reason > 0) return {};
  PetscInt its;
  PetscReal rnorm;
  KSPType type;
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
  BILEARN_CHECK(KSPGetResidualNorm(ksp, &rnorm));
  BILEARN_CHECK(KSPGetType(ksp, &type));
  std::ostringstream msg;
  if (reason == KSP_DIVERGED_INDEFINITE_MAT || reason == KSP_DIVERGED_INDEFINITE_PC) {
    msg << "the lower-level Hessian of sample " << s.index << " is indefinite: -hyper_ksp_type " << type
        << " needs a symmetric positive definite H; use -hyper_ksp_type minres (or rminres)";
  } else {
    msg << "hypergradient Krylov solve of sample " << s.index << " failed: " << KSPConvergedReasons[reason] << " after "
        << its << " iterations (residual " << rnorm << ")";
  }
  return msg.str();
}

class ImplicitEstimator : public HypergradientEstimator {
 public:
  std::string name() const override { return "implicit"; }

  void set_from_options(MPI_Comm comm, const std::string& prefix) override {
    OptionsBlock block(comm, prefix, "Hypergradient KSPs");
    share_space_ =
        block.flag("-share_space",
                   "One hypergradient KSP and recycle space shared by all samples of a group (bounds memory)", false);
    // The KSPs are created at the first solve; their options are read once here too, so that a
    // bad -hyper_ksp_type is an error before train writes anything (and -help lists them).
    if (prefix == "hyper_") print_hypergradient_ksp_options(comm);
  }

  void view(PetscViewer viewer) const override {
    HypergradientEstimator::view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "one KSP (prefix -hyper_) %s\n",
                                         share_space_ ? "shared by the samples of a group" : "per sample"));
    BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
  }

  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation result;
    result.loss = problem.reconstruct(theta, result.stats);
    if (!need_gradient || !std::isfinite(result.loss)) return result;  // the loss is the same on every rank
    log::ScopedStage stage(log::stages().hypergradient);
    log::ScopedEvent event(log::events().hypergradient);
    result.gradient.assign(static_cast<size_t>(problem.num_params()), 0.0);
    const SampleProblem::Batch batch = problem.batch();
    const bool together = batch.objective && !share_space_ && batch_ksp_usable(problem, *batch.objective);
    const std::string failure =
        together ? solve_batch(problem, batch, theta, result) : solve_one_by_one(problem, theta, result);
    event.end();
    problem.raise_if_any_failed(!failure.empty(), failure);
    problem.sum_over_groups(result.gradient);
    for (auto& g : result.gradient) g /= static_cast<PetscReal>(problem.active_total());
    return result;
  }

  // The sample's KSP (created on first use, hypergradient_ksp.hpp: prefix -hyper_, its
  // defaults), with the relative tolerance in force.
  KSP sample_ksp(SampleProblem& problem, const SampleState& s) override {
    OwnedKSP& ksp = ksps_[key(s)];
    if (!ksp) create_ksp(problem.grid().comm(), problem.objective(), ksp);
    apply_rtol(ksp);
    return ksp;
  }

  KSP existing_sample_ksp(const SampleState& s) const override {
    auto it = ksps_.find(key(s));
    return it == ksps_.end() ? nullptr : it->second.get();
  }

  void set_krylov_rtol(PetscReal rtol) override { rtol_ = rtol; }

 private:
  // A hypergradient KSP for objective (hypergradient_ksp.hpp); the first one tells the configured rtol.
  void create_ksp(MPI_Comm comm, LowerProblem& objective, OwnedKSP& ksp) {
    create_hypergradient_ksp(comm, objective, ksp.out());
    PetscReal rtol;
    BILEARN_CHECK(KSPGetTolerances(ksp, &rtol, nullptr, nullptr, nullptr));
    if (configured_rtol_ == 0) configured_rtol_ = rtol;
  }

  // The relative tolerance in force: set_krylov_rtol's, else the configured one.
  void apply_rtol(KSP ksp) const {
    BILEARN_CHECK(
        KSPSetTolerances(ksp, rtol_ > 0 ? rtol_ : configured_rtol_, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  }

  // H_s w_s = x̂_s − x†_s for each active sample with its own KSP; ∇L gets −Σ_s J_s w_s. Empty, or
  // the failure.
  std::string solve_one_by_one(SampleProblem& problem, const std::vector<PetscReal>& theta, UpperEvaluation& result) {
    const PetscInt p = problem.num_params();
    std::vector<PetscReal> jw(static_cast<size_t>(p));
    std::string failure;
    if (!rhs_) rhs_ = problem.grid().create_vec();
    LowerObjective& objective = problem.objective();
    for (auto& s : problem.samples()) {
      if (!problem.is_active(s)) continue;
      objective.set_point(s.x_hat, theta);
      BILEARN_CHECK(VecWAXPY(rhs_, -1.0, s.truth, s.x_hat));  // g = x̂ − x†
      KSP ksp = sample_ksp(problem, s);
      BILEARN_CHECK(KSPSetOperators(ksp, objective.hessian(), objective.hessian()));
      const PetscInt products_before = objective.hessian_products();
      double t0 = MPI_Wtime();
      HypergradientSolve solve;
      {
        log::ScopedEvent solve_event(log::events().krylov_solve);
        solve = solve_hypergradient_system(ksp, rhs_, s.adjoint);
      }
      if (solve.switched_to_minres)
        BILEARN_CHECK(PetscPrintf(problem.grid().comm(),
                                  "note: the lower-level Hessian of sample %" PetscInt_FMT
                                  " is indefinite (non-convex regulariser): its hypergradient KSP "
                                  "switches from cg to minres (-hyper_ksp_type sets it)\n",
                                  s.index));
      result.stats.krylov_seconds += MPI_Wtime() - t0;
      failure = krylov_failure(ksp, s);
      if (!failure.empty()) break;  // the KSP is collective over the group: all its ranks break
      result.stats.krylov_iterations += solve.iterations;
      result.stats.hessian_products += objective.hessian_products() - products_before;
      t0 = MPI_Wtime();
      {
        log::ScopedEvent mixed_event(log::events().mixed_apply);
        objective.mixed_mult(s.adjoint, jw);
      }
      ++result.stats.mixed_products;
      result.stats.mixed_seconds += MPI_Wtime() - t0;
      for (PetscInt i = 0; i < p; ++i) result.gradient[static_cast<size_t>(i)] -= jw[static_cast<size_t>(i)];
    }
    return failure;
  }

  // The batch's KSP (prefix -hyper_, created on first use) unless it is a recycling type, whose
  // spaces stay per sample: then the samples are solved one by one.
  bool batch_ksp_usable(SampleProblem& problem, BatchedLowerObjective& objective) {
    if (!batch_ksp_) {
      create_ksp(problem.grid().comm(), objective, batch_ksp_);
      batch_recycling_ = is_recycling_ksp(batch_ksp_);
      batch_rhs_ = objective.create_vec();
      batch_adjoint_ = objective.create_vec();
    }
    return !batch_recycling_;
  }

  // Krylov iterations per sample, as the one-by-one solves count them: the last lockstepcg solve's
  // block iterations summed (each block's count is that of KSPCG alone), earlier solves of the
  // same call (a cold retry) and other KSP types B per stacked iteration.
  PetscInt sample_iterations(const HypergradientSolve& solve, PetscInt blocks) const {
    PetscBool lockstep = PETSC_FALSE;
    BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)batch_ksp_.get(), KSPLOCKSTEPCG, &lockstep));
    if (!lockstep) return solve.iterations * blocks;
    PetscInt last = 0, sum = 0;
    BILEARN_CHECK(KSPGetIterationNumber(batch_ksp_, &last));
    for (PetscInt s = 0; s < blocks; ++s) {
      PetscInt its = 0;
      BILEARN_CHECK(KSPLockstepCGGetBlockIterations(batch_ksp_, s, &its));
      sum += its;
    }
    return sum + (solve.iterations - last) * blocks;
  }

  // H W = X̂ − X† for the stacked samples in one solve (docs/algorithms.md §4.7), warm started
  // from the samples' adjoints; ∇L gets −Σ_s J_s w_s. Empty, or the failure.
  std::string solve_batch(SampleProblem& problem, const SampleProblem::Batch& batch,
                          const std::vector<PetscReal>& theta, UpperEvaluation& result) {
    BatchedLowerObjective& objective = *batch.objective;
    std::vector<SampleState>& samples = problem.samples();
    std::vector<Vec> adjoints;
    for (auto& s : samples) adjoints.push_back(s.adjoint);
    objective.set_point(batch.x_hat, theta);
    BILEARN_CHECK(VecWAXPY(batch_rhs_, -1.0, batch.truth, batch.x_hat));  // g = x̂ − x†
    objective.gather(adjoints, batch_adjoint_);
    BILEARN_CHECK(KSPSetOperators(batch_ksp_, objective.hessian(), objective.hessian()));
    apply_rtol(batch_ksp_);
    const PetscInt products_before = objective.hessian_products();
    double t0 = MPI_Wtime();
    HypergradientSolve solve;
    {
      log::ScopedEvent solve_event(log::events().krylov_solve);
      solve = solve_hypergradient_system(batch_ksp_, batch_rhs_, batch_adjoint_);
    }
    if (solve.switched_to_minres)
      BILEARN_CHECK(PetscPrintf(problem.grid().comm(),
                                "note: the lower-level Hessian of samples %" PetscInt_FMT "-%" PetscInt_FMT
                                " is indefinite (non-convex regulariser): their hypergradient KSP switches from cg "
                                "to minres (-hyper_ksp_type sets it)\n",
                                samples.front().index, samples.back().index));
    result.stats.krylov_seconds += MPI_Wtime() - t0;
    const std::string failure = krylov_failure(batch_ksp_, samples.front());
    if (!failure.empty()) return failure;
    objective.scatter(batch_adjoint_, adjoints);
    result.stats.krylov_iterations += sample_iterations(solve, objective.blocks());
    result.stats.hessian_products += objective.hessian_products() - products_before;
    t0 = MPI_Wtime();
    std::vector<PetscReal> jw;
    {
      log::ScopedEvent mixed_event(log::events().mixed_apply);
      objective.mixed_mult_sum(batch_adjoint_, jw);
    }
    result.stats.mixed_products += objective.blocks();
    result.stats.mixed_seconds += MPI_Wtime() - t0;
    for (size_t i = 0; i < jw.size(); ++i) result.gradient[i] -= jw[i];
    return {};
  }

  PetscInt key(const SampleState& s) const { return share_space_ ? -1 : s.index; }

  bool share_space_ = false;           // -hyper_share_space
  std::map<PetscInt, OwnedKSP> ksps_;  // by global sample index (-1: the shared one)
  PetscReal rtol_ = 0;                 // 0: as configured
  PetscReal configured_rtol_ = 0;      // read from the first KSP's options
  OwnedVec rhs_;
  OwnedKSP batch_ksp_;  // for the stacked samples of a batch (-lower_batch)
  bool batch_recycling_ = false;
  OwnedVec batch_rhs_, batch_adjoint_;
};

}  // namespace

std::unique_ptr<HypergradientEstimator> create_implicit_estimator() {
  return std::make_unique<ImplicitEstimator>();
}

}  // namespace bilearn
