// The gradient map of the lower level, T(x) = x − τ ∇_x Φ(x, θ), run for K steps and
// differentiated in reverse mode (docs/algorithms.md §3: retune, unrolled, one-step for a
// gradient-type solver). Shared by the estimators that unroll it.
//
// Forward: x_{k+1} = T(x_k), k = 0..K−1, from a given x_0; the K + 1 iterates are stored.
// Reverse (the adjoint of the K steps for ℓ = ½‖x_K − x†‖², x_0 and τ held constant):
//   λ_K = x_K − x†;  for k = K−1, …, 0:
//     ∇_θℓ += −τ J(x_k) λ_{k+1}                 (J = ∂_θ∇_xΦ at (x_k, θ), one mixed product)
//     λ_k   = λ_{k+1} − τ H(x_k) λ_{k+1}        (one Hessian product; skipped for k = 0)
// so K mixed products and K − 1 Hessian products per sample.
//
// Step: τ = -hyper_step_fraction / Lip (fraction in (0, 2), default 1), or a user-given
// -hyper_gradient_step τ, which must satisfy τ < 2/Lip (InputError otherwise: T would not be a
// contraction). Lip bounds λmax(∇²_xxΦ(x, θ)) for every x: H(x) = AᵀA + Σ_k w_k C_kᵀ
// diag(φ_k''(C_k x)) C_k + εI, and every expert and the smoothed TV norm have their largest
// curvature at 0 (φ'' ≤ φ''(0): quadratic, Huber, smoothed ℓ1, Lorentzian; the Hessian of
// √(|g|² + γ²) is ≼ I/γ), so H(x) ≼ H(0) in the Loewner order and λmax(H(0, θ)) bounds λmax along
// any trajectory. It is computed by SLEPc (Krylov–Schur, largest eigenvalue, relative residual
// tolerance 1e-3; options -hyper_lipschitz_eps_*) on H at x = 0, which does not depend on the
// sample's data, and multiplied by the safety factor -hyper_lipschitz_safety (default 1.01).
// The Ritz value underestimates λmax; a residual ‖r‖ ≤ 1e-3 λ puts it within 1e-3 λ of an
// eigenvalue (in practice of λmax: Lanczos finds the extreme end first), which the factor
// covers ten times. A tight tolerance is not affordable: denoising's top spectrum is a
// continuum (on N = 32, foe, 1000 restarts left a residual of 7e-7 where 1e-3 takes 7).
// One estimate per θ, cached (the same for every sample of the geometry); `bilearn serve` keeps
// it for later jobs of the same geometry, ε, regulariser options and θ (estimate_lipschitz).
// τ is a constant of the algorithm: the derivative does not follow its θ-dependence.
//
// Storage: the iterates live in vectors kept across calls and samples, grown to the largest
// K + 1 seen (all K + 1 at once for a fixed K, in chunks of 32 when a tolerance decides K);
// nothing is allocated per step.
#pragma once
#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

class GradientMap {
 public:
  GradientMap() = default;
  GradientMap(const GradientMap&) = delete;
  GradientMap& operator=(const GradientMap&) = delete;

  // -<prefix>step_fraction, -<prefix>gradient_step, -<prefix>lipschitz_safety.
  void set_from_options(MPI_Comm comm, const std::string& prefix);
  void view(PetscViewer viewer) const;

  // Sets τ for θ (estimates Lip on the first call for this θ). InputError if a user-given
  // τ ≥ 2/Lip. Collective. Returns τ.
  PetscReal prepare(LowerObjective& objective, const std::vector<PetscReal>& theta);
  PetscReal step() const noexcept { return tau_; }
  PetscReal lipschitz() const noexcept { return lipschitz_; }

  // K steps of T from x0 (copied, not modified) for the data set in the objective; stops early
  // when ‖∇_xΦ(x_k)‖ ≤ gtol (gtol ≤ 0: exactly max_steps steps). Returns K. Collective.
  PetscInt forward(LowerObjective& objective, Vec x0, const std::vector<PetscReal>& theta, PetscInt max_steps,
                   PetscReal gtol);
  Vec last() const;  // x_K of the last forward()
  PetscInt steps() const noexcept { return k_; }
  PetscReal last_gradient_norm() const noexcept { return gnorm_; }  // ‖∇Φ‖ at the last checked iterate

  // Adds ∇_θ ½‖x_K − x†‖² of the K-step map to grad (length p). Collective.
  void reverse(LowerObjective& objective, Vec truth, const std::vector<PetscReal>& theta, std::vector<PetscReal>& grad);

  PetscInt stored_vectors() const noexcept { return static_cast<PetscInt>(iterates_.size()); }
  PetscReal stored_megabytes() const;  // of this rank's share of the stored iterates

 private:
  void ensure_capacity(Vec like, PetscInt count, bool chunked);
  // safety × λmax(H(0, θ)); in `bilearn serve` λmax is kept for later jobs with the same
  // operator, ε, regulariser options and θ (operator_cache.hpp), elsewhere computed here.
  PetscReal estimate_lipschitz(LowerObjective& objective, const std::vector<PetscReal>& theta);
  PetscReal largest_eigenvalue(LowerObjective& objective);  // of H at the point set, by SLEPc

  PetscReal fraction_ = 1.0;  // -step_fraction
  PetscReal user_step_ = 0;   // -gradient_step (0: τ = fraction / Lip)
  PetscReal safety_ = 1.01;   // -lipschitz_safety
  std::string prefix_;
  std::vector<PetscReal> lip_theta_;  // θ of the cached estimate
  PetscReal lipschitz_ = 0;
  PetscReal tau_ = 0;
  std::vector<OwnedVec> iterates_;  // x_0 … x_K (capacity: the largest K seen + 1)
  OwnedVec gradient_, lambda_, hv_, zero_;
  std::vector<PetscReal> jv_;
  PetscInt k_ = 0;
  PetscReal gnorm_ = 0;
};

}  // namespace bilearn
