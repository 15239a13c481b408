// The hypergradient KSP of a sample (prefix -hyper_) and its defaults, chosen by
// `bench recycle` on the recorded tomography sequence (N = 128, S = 4, 2 ranks, ratios to warm
// MINRES without a preconditioner): CG with PC circulant (docs/algorithms.md §4.5) took 0.42× the
// iterations and 0.46× the wall time; recycling (rminres, the former default) 0.85× the time.
//   - KSP cg, stopped on the true residual ‖b − Hw‖ ≤ rtol‖b‖ (the M⁻¹-norm stop lets it grow
//     past the tolerance, §4.5), rtol 1e-6, warm started from the previous w;
//   - PC circulant for CG; any other -hyper_ksp_type (minres, rminres, rcg, ...) gets no PC
//     unless -hyper_pc_type names one (MINRES + circulant: 0.44× the time on the same bench);
//   - -hyper_ksp_type, -hyper_pc_type, -hyper_ksp_norm_type override each choice.
// H is symmetric positive definite for convex regularisers; for non-convex experts it can be
// indefinite at x̂, where CG stops with KSP_DIVERGED_INDEFINITE_MAT: a KSP whose type was not
// chosen by the user then switches to MINRES without a preconditioner (unless -hyper_pc_type
// chose one) and solves again.
#pragma once
#include <petscksp.h>

#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

// Creates and configures a sample's hypergradient KSP for H = objective.hessian().
// The objective must outlive the KSP.
void create_hypergradient_ksp(MPI_Comm comm, LowerProblem& objective, KSP* ksp);

// Reads the options of the hypergradient KSPs (-hyper_ksp_*, -hyper_pc_*) on a KSP made for the
// purpose: -help prints them, and a bad value (unknown type) is an error before the first
// hypergradient, where they are otherwise read. Collective.
void print_hypergradient_ksp_options(MPI_Comm comm);

// After a solve that stopped with an indefinite H: switches a default-configured CG to MINRES
// and returns true; returns false when the user chose the type or
// the solve failed for another reason.
bool switch_to_minres_if_indefinite(KSP ksp);

// What solve_hypergradient_system did.
struct HypergradientSolve {
  PetscInt iterations = 0;          // Krylov iterations of every solve it made
  bool warm_start_dropped = false;  // ‖b − H w₀‖ ≥ ‖b‖: started from zero instead
  bool switched_to_minres = false;  // an indefinite H made a default CG switch to MINRES
  bool cold_retry = false;          // a warm-started solve diverged and was solved again from zero
};

// Solves H w = b (H: the KSP's operator) from the warm start in w when the KSP has a nonzero
// initial guess (docs/algorithms.md §3):
//   - a warm start no better than zero, ‖b − H w₀‖ ≥ ‖b‖, is replaced by zero. PETSc's divergence
//     test compares the residual with dtol·‖b‖ for a nonzero guess, so the previous w of a θ far
//     away (the first Armijo trial of a long step changes H by orders of magnitude) stopped the
//     solve with DIVERGED_DTOL after 0 iterations;
//   - an indefinite H switches a default-configured CG to MINRES, which solves again;
//   - a warm-started solve that diverges (DIVERGED_DTOL, DIVERGED_NANORINF, DIVERGED_BREAKDOWN) is
//     solved once more from zero.
// The KSP's converged reason is that of the last solve. Collective on the KSP.
HypergradientSolve solve_hypergradient_system(KSP ksp, Vec b, Vec w);

}  // namespace bilearn
