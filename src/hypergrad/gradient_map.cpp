#include "bilearn/hypergrad/gradient_map.hpp"

#include <slepceps.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/problem/operator_cache.hpp"

namespace bilearn {
namespace {

constexpr PetscInt kChunk = 32;  // iterate vectors added at a time

using OwnedEPS = Handle<EPS, EPSDestroy>;

// The key of λmax(H(0, θ)) in the service's cache (operator_cache.hpp), or "" when it is not
// kept (outside the service, an operator read from a file, a filter bank read from a file).
// H(0, θ) = AᵀA + ∇²R_θ(0) + εI depends on the operator (its key), ε, the regulariser (its
// options as given; -reg_theta only starts θ) and θ itself, bit for bit; the estimate also on the
// eigensolver's options (-<prefix>lipschitz_*, less the safety factor applied afterwards). Not on
// the data: x = 0.
std::string lipschitz_key(const LowerObjective& objective, const std::vector<PetscReal>& theta,
                          const std::string& prefix) {
  if (!active_operator_cache() || objective.model().cache_key.empty()) return "";
  std::string key = objective.model().cache_key + " | epsilon=" + exact_number(objective.epsilon()) + " theta=";
  for (PetscReal t : theta) key += exact_number(t) + ",";
  const std::string eigensolver = "-" + prefix + "lipschitz_", safety = eigensolver + "safety";
  const bool cacheable = append_given_options(key, [&](const std::string& option) {
    if (option.rfind("-reg_", 0) == 0) return option != "-reg_theta" && option != "-reg_view";
    return option.rfind(eigensolver, 0) == 0 && option != safety;
  });
  return cacheable ? key : "";
}

}  // namespace

void GradientMap::set_from_options(MPI_Comm comm, const std::string& prefix) {
  prefix_ = prefix;
  OptionsBlock block(comm, prefix, "Gradient map x - tau grad Phi (retune, unrolled, onestep)");
  fraction_ = block.real("-step_fraction", "tau = fraction / Lip, Lip = safety * lambda_max(Hessian at x = 0)",
                         fraction_, 0.0, PETSC_INFINITY);
  user_step_ = block.real("-gradient_step", "fixed step tau (0: from -hyper_step_fraction); must be < 2/Lip",
                          user_step_, 0.0, PETSC_INFINITY);
  safety_ =
      block.real("-lipschitz_safety", "factor >= 1 on the estimated lambda_max of the Hessian", safety_, 1.0, 10.0);
  require(fraction_ > 0 && fraction_ < 2, block.full_name("-step_fraction") +
                                              " must lie in (0, 2) (tau = fraction / Lip contracts only for "
                                              "fraction < 2), got " +
                                              std::to_string(fraction_));
}

void GradientMap::view(PetscViewer viewer) const {
  if (user_step_ > 0) {
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "gradient map step tau = %g (given; checked against 2/Lip)\n",
                                         (double)user_step_));
  } else {
    BILEARN_CHECK(
        PetscViewerASCIIPrintf(viewer, "gradient map step tau = %g / Lip, Lip = %g x lambda_max(H(0, theta)) (SLEPc)\n",
                               (double)fraction_, (double)safety_));
  }
}

PetscReal GradientMap::estimate_lipschitz(LowerObjective& objective, const std::vector<PetscReal>& theta) {
  if (!zero_) {
    zero_ = objective.grid().create_vec();
    BILEARN_CHECK(VecSet(zero_, 0.0));
  }
  objective.set_point(zero_, theta);  // also on a hit: the objective is left as the estimate leaves it
  const MPI_Comm comm = objective.grid().comm();
  const std::string key = lipschitz_key(objective, theta, prefix_);
  std::vector<PetscReal> kept;
  if (!key.empty() && active_operator_cache()->find_values(comm, CacheKind::lipschitz, key, kept))
    return safety_ * kept.at(0);
  const PetscReal lambda = largest_eigenvalue(objective);
  if (!key.empty()) active_operator_cache()->store_values(comm, CacheKind::lipschitz, key, {lambda});
  return safety_ * lambda;
}

PetscReal GradientMap::largest_eigenvalue(LowerObjective& objective) {
  OwnedEPS eps;
  BILEARN_CHECK(EPSCreate(objective.grid().comm(), eps.out()));
  BILEARN_CHECK(EPSSetOperators(eps, objective.hessian(), nullptr));
  BILEARN_CHECK(EPSSetProblemType(eps, EPS_HEP));
  BILEARN_CHECK(EPSSetWhichEigenpairs(eps, EPS_LARGEST_REAL));
  BILEARN_CHECK(EPSSetDimensions(eps, 1, PETSC_DEFAULT, PETSC_DEFAULT));
  BILEARN_CHECK(EPSSetTolerances(eps, 1e-3, 1000));
  BILEARN_CHECK(EPSSetOptionsPrefix(eps, (prefix_ + "lipschitz_").c_str()));
  BILEARN_CHECK(EPSSetFromOptions(eps));
  BILEARN_CHECK(EPSSolve(eps));
  PetscInt nconv = 0;
  BILEARN_CHECK(EPSGetConverged(eps, &nconv));
  if (nconv < 1)
    throw NumericalError(
        "the largest eigenvalue of the lower-level Hessian (for the gradient step) "
        "did not converge; give -" +
        prefix_ + "gradient_step");
  PetscScalar lambda = 0;
  BILEARN_CHECK(EPSGetEigenpair(eps, 0, &lambda, nullptr, nullptr, nullptr));
  return PetscRealPart(lambda);
}

PetscReal GradientMap::prepare(LowerObjective& objective, const std::vector<PetscReal>& theta) {
  if (lipschitz_ <= 0 || theta != lip_theta_) {
    lipschitz_ = estimate_lipschitz(objective, theta);
    lip_theta_ = theta;
  }
  if (user_step_ > 0) {
    if (user_step_ * lipschitz_ >= 2.0) {
      std::ostringstream msg;
      msg << "-" << prefix_ << "gradient_step " << user_step_ << " is >= 2/Lip = " << 2.0 / lipschitz_
          << " (Lip = " << lipschitz_ << ", the largest eigenvalue of the lower-level Hessian): the gradient map "
          << "would not contract; use a smaller step or -" << prefix_ << "step_fraction";
      throw InputError(msg.str());
    }
    tau_ = user_step_;
  } else {
    tau_ = fraction_ / lipschitz_;
  }
  return tau_;
}

void GradientMap::ensure_capacity(Vec like, PetscInt count, bool chunked) {
  const PetscInt target = chunked ? (count + kChunk - 1) / kChunk * kChunk : count;
  while (static_cast<PetscInt>(iterates_.size()) < target) {
    iterates_.emplace_back();
    BILEARN_CHECK(VecDuplicate(like, iterates_.back().out()));
  }
}

PetscInt GradientMap::forward(LowerObjective& objective, Vec x0, const std::vector<PetscReal>& theta,
                              PetscInt max_steps, PetscReal gtol) {
  if (!gradient_) {
    BILEARN_CHECK(VecDuplicate(x0, gradient_.out()));
    BILEARN_CHECK(VecDuplicate(x0, lambda_.out()));
    BILEARN_CHECK(VecDuplicate(x0, hv_.out()));
  }
  const bool check = gtol > 0;  // else exactly max_steps steps: allocate them now
  ensure_capacity(x0, check ? 1 : max_steps + 1, check);
  BILEARN_CHECK(VecCopy(x0, iterates_[0]));
  k_ = 0;
  gnorm_ = -1;
  for (;;) {
    if (k_ == max_steps && !check) break;
    objective.value_and_gradient(iterates_[static_cast<size_t>(k_)], theta, gradient_);
    if (check) {
      BILEARN_CHECK(VecNorm(gradient_, NORM_2, &gnorm_));
      if (gnorm_ <= gtol || k_ == max_steps) break;
    }
    ensure_capacity(x0, k_ + 2, check);
    BILEARN_CHECK(
        VecWAXPY(iterates_[static_cast<size_t>(k_ + 1)], -tau_, gradient_, iterates_[static_cast<size_t>(k_)]));
    ++k_;
  }
  return k_;
}

Vec GradientMap::last() const {
  return iterates_.at(static_cast<size_t>(k_));
}

void GradientMap::reverse(LowerObjective& objective, Vec truth, const std::vector<PetscReal>& theta,
                          std::vector<PetscReal>& grad) {
  jv_.resize(grad.size());
  BILEARN_CHECK(VecWAXPY(lambda_, -1.0, truth, iterates_[static_cast<size_t>(k_)]));  // λ_K = x_K − x†
  for (PetscInt k = k_ - 1; k >= 0; --k) {
    objective.set_point(iterates_[static_cast<size_t>(k)], theta);
    {
      log::ScopedEvent mixed_event(log::events().mixed_apply);
      objective.mixed_mult(lambda_, jv_.data());
    }
    for (size_t i = 0; i < grad.size(); ++i) grad[i] -= tau_ * jv_[i];
    if (k == 0) break;  // λ_0 is not needed: x_0 does not depend on θ
    objective.hessian_mult(lambda_, hv_);
    BILEARN_CHECK(VecAXPY(lambda_, -tau_, hv_));
  }
}

PetscReal GradientMap::stored_megabytes() const {
  if (iterates_.empty()) return 0;
  PetscInt local;
  BILEARN_CHECK(VecGetLocalSize(iterates_.front(), &local));
  return static_cast<PetscReal>(iterates_.size()) * static_cast<PetscReal>(local) * sizeof(PetscScalar) /
         (1024.0 * 1024.0);
}

}  // namespace bilearn
