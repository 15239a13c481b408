// Implicit hypergradient (ALGORITHMS.md §3, DESIGN.md): for each sample solve H w = ∇_x ℓ
// with ℓ = ½‖x − x†‖², i.e. g = x̂ − x†, by the sample's KSP (warm started from the
// previous w), then ∇L = ∂_θ ℓ − J w = −J w, averaged over samples.
#include <cmath>
#include <sstream>
#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/hypergrad/estimator.hpp"
#include "bilearn/hypergrad/hypergradient_ksp.hpp"

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

  UpperEvaluation evaluate(BilevelProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override {
    UpperEvaluation result;
    result.loss = problem.reconstruct(theta, result.stats);
    if (!need_gradient || !std::isfinite(result.loss)) return result;  // the loss is the same on every rank
    log::ScopedStage stage(log::stages().hypergradient);
    std::string failure;
    log::ScopedEvent event(log::events().hypergradient);
    const PetscInt p = problem.num_params();
    result.gradient.assign(static_cast<size_t>(p), 0.0);
    std::vector<PetscReal> jw(static_cast<size_t>(p));
    if (!rhs_) rhs_ = problem.grid().create_vec();
    LowerObjective& objective = problem.objective();
    for (auto& s : problem.samples()) {
      if (!problem.is_active(s)) continue;
      objective.set_point(s.x_hat);
      BILEARN_CHECK(VecWAXPY(rhs_, -1.0, s.truth, s.x_hat));  // g = x̂ − x†
      problem.observe_system(s, theta, rhs_);
      KSP ksp = problem.sample_ksp(s);
      BILEARN_CHECK(KSPSetOperators(ksp, objective.hessian(), objective.hessian()));
      const PetscInt products_before = objective.hessian_products();
      double t0 = MPI_Wtime();
      {
        log::ScopedEvent solve_event(log::events().krylov_solve);
        BILEARN_CHECK(KSPSolve(ksp, rhs_, s.adjoint));
        if (switch_to_minres_if_indefinite(ksp)) {
          BILEARN_CHECK(PetscPrintf(problem.grid().comm(),
                                    "note: the lower-level Hessian of sample %" PetscInt_FMT
                                    " is indefinite (non-convex regulariser): its hypergradient KSP "
                                    "switches from cg to minres (-hyper_ksp_type sets it)\n",
                                    s.index));
          BILEARN_CHECK(KSPSolve(ksp, rhs_, s.adjoint));
        }
      }
      result.stats.krylov_seconds += MPI_Wtime() - t0;
      failure = krylov_failure(ksp, s);
      if (!failure.empty()) break;  // the KSP is collective over the group: all its ranks break
      PetscInt its;
      BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
      result.stats.krylov_iterations += its;
      result.stats.hessian_products += objective.hessian_products() - products_before;
      t0 = MPI_Wtime();
      {
        log::ScopedEvent mixed_event(log::events().mixed_apply);
        objective.mixed_mult(s.adjoint, jw);
      }
      result.stats.mixed_seconds += MPI_Wtime() - t0;
      for (PetscInt i = 0; i < p; ++i) result.gradient[static_cast<size_t>(i)] -= jw[static_cast<size_t>(i)];
    }
    event.end();
    problem.raise_if_any_failed(!failure.empty(), failure);
    problem.sum_over_groups(result.gradient);
    for (auto& g : result.gradient) g /= static_cast<PetscReal>(problem.active_total());
    return result;
  }

 private:
  OwnedVec rhs_;
};

}  // namespace

std::unique_ptr<HypergradientEstimator> create_implicit_estimator() {
  return std::make_unique<ImplicitEstimator>();
}

}  // namespace bilearn
