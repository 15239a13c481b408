// Backtracking line searches shared by the optimisers (docs/algorithms.md §5).
#pragma once
#include <string>
#include <vector>

#include "bilearn/outer/oracle.hpp"

namespace bilearn {

struct LineSearchResult {
  bool accepted = false;
  PetscReal alpha = 0;  // accepted α, or the last α tried
  PetscInt backtracks = 0;
  Point point;  // the accepted point (evaluated with gradient)
  std::string message;
};

// Armijo backtracking along d from p = oracle.current(): θ(α) = P(θ + α d),
//   accept when L(θ(α)) ≤ L(θ) + c gᵀ(θ(α) − θ)        (= L(θ) − c α‖g‖² for d = −g, no bounds)
// else α ← ρα, at most max_backtracks times. Trials evaluate the loss only; the accepted point
// is then evaluated with gradient, and keeps the loss the test accepted (so the inequality
// holds for the recorded values). A non-finite trial loss counts as a failed trial.
// The first trial step along d when nothing is known of L's curvature (the first gradient
// step, an L-BFGS step with empty memory): α₀ = min(step, max_norm/‖d‖), so that θ moves by at
// most max_norm (max_norm = 0: α₀ = step). The scale of L grows with the pixel count: tomography
// with S = 4 has ‖∇L(θ₀)‖ = 0.18 at N = 64 and 2946 at N = 512, where α₀ = 1 moved θ by ~3000
// (docs/algorithms.md §5).
PetscReal first_trial_step(PetscReal step, PetscReal max_norm, const std::vector<PetscReal>& d);

LineSearchResult armijo_backtracking(Oracle& oracle, const std::vector<PetscReal>& d, PetscReal alpha0, PetscReal c,
                                     PetscReal rho, PetscInt max_backtracks);

}  // namespace bilearn
