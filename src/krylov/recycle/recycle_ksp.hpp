// Internal: the data both recycling KSP types (rminres, rcg) keep in ksp->data, and the steps
// they share around their iteration loops (prepare the space, project, NSC set-up, true-residual
// check, update of the space). Not for use outside src/krylov.
#pragma once
#include <petsc/private/kspimpl.h>

#include <string>
#include <vector>

#include "bilearn/krylov/ksp_recycle.hpp"
#include "krylov/recycle/prec_update.hpp"
#include "krylov/recycle/recycle_space.hpp"
#include "krylov/recycle/recycle_update.hpp"
#include "krylov/recycle/selector.hpp"
#include "krylov/recycle/vec_block.hpp"

namespace bilearn::krylov {

struct RecycleOptions {
  PetscInt k = 20;
  PetscInt m = 60;
  Selector selector = Selector::RitzBoth;
  bool nsc = false;
  PetscReal nsc_tol = 1e-2;
  PetscReal nsc_safety = 0.3;
  PetscReal nsc_rtol_floor = 1.0;
  PetscInt nsc_k = 20;
  std::string init = "none";
  bool verbose = false;
  bool check = true;
  bool carry_hu = true;
  bool update = true;
  PetscInt update_every = 1;  // rebuild the space after every n-th solve; reuse it unchanged in between
  bool first_window =
      false;  // -ksp_recycle_window first  // false: the space is frozen (used as is for the next systems)
  PrepareTolerances tol;
};

// One pass of a type's iteration from ksp->vec_sol (zero when guess_zero), with the space or
// (use_space = false) without it. Returns false when the true-residual check failed: the space
// was reset and the solve runs again without it.
struct RecycleKsp;
using RecycledRun = bool (*)(KSP ksp, RecycleKsp& d, Mat a, bool use_space);

struct RecycleKsp {
  const char* type_name = "rminres";
  RecycledRun run = nullptr;  // the type's iteration
  RecycleOptions opt;
  RecycleSpace space;
  RecycleUpdater updater;
  PrecUpdater pupdater;  // the update of a preconditioned solve (Ritz pairs of M⁻¹H)
  MixedOperator j;
  Mat split_fixed = nullptr;  // referenced
  Mat split_varying = nullptr;
  bool init_done = false;
  PetscObjectId last_op_id = 0;        // operator of the previous solve (id, state): repeated operators
  PetscObjectState last_op_state = 0;  // make carrying H·Ũ worth its cost
  PetscInt solves_since_update = 0;    // solves that reused the space unchanged since it was last rebuilt

  // per-solve state
  bool in_solve = false;
  bool preconditioned = false;     // the PC is not none: the deflated preconditioned iteration
  Dense winv;                      // (UᵀC)⁻¹ (s × s) for the deflated preconditioned iteration
  PetscInt s = 0;                  // dimension of the prepared space
  std::vector<PetscScalar> zacc;   // U-coefficients of the correction x −= U zacc
  std::vector<PetscScalar> fused;  // buffer for fused reductions
  std::vector<Vec> fused_list;     // [C, v, Z] for the fused reduction
  PetscInt nz = 0;                 // NSC columns active in this solve
  Dense ztc;                       // ZᵀC (nz × s)
  PetscReal bnorm = 0;             // ‖b‖ (when needed)
  FusedKernels kernels;            // the recycled iteration's reductions, one pass each

  KSPRecycleInfo info{};
  std::string message;
  PetscInt total_resets = 0;
};

RecycleKsp& recycle_data(KSP ksp);

// KSPCreate body shared by both types: data, supported norms, ops. The solve runs `run` with
// the space and, after a failed check, once more without it (iterations of both counted).
void create_recycle_ksp(KSP ksp, const char* type_name, RecycledRun run);

// Whether the KSP has a preconditioner (a PC other than none). An unset PC, or PETSc's default
// (ILU, ICC, block Jacobi) not chosen on the command line, becomes none.
bool has_preconditioner(KSP ksp);

// The preconditioned iterations' common steps (docs/algorithms.md §4.5, deflation with W = UᵀC):
// x += U t, r −= C t with t = W⁻¹Uᵀr (so that Uᵀr = 0), and g = W⁻¹ v for v ∈ R^s.
void deflate_initial(RecycleKsp& d, Vec x, Vec r);
void apply_winv(const RecycleKsp& d, const PetscScalar* v, PetscScalar* out);
// One application of the preconditioner, counted in info.pc_applies.
void apply_pc(KSP ksp, RecycleKsp& d, Vec r, Vec z);
// Throws InputError for a preconditioner that showed rᵀM⁻¹r ≤ 0 (not SPD).
[[noreturn]] void reject_preconditioner(KSP ksp, PetscReal rz);

// Before the iteration: prepares the space for A (EPS start, reports), sets s, zacc, NSC data,
// and starts recording. use_space=false runs without a space (restart after a failed check).
void begin_solve(KSP ksp, RecycleKsp& d, Mat a, bool use_space);

// NSC: true when the NSC rule says stop (eta: current estimate ‖Zᵀr‖, rnorm: residual norm).
bool nsc_says_stop(const RecycleKsp& d, PetscReal eta, PetscReal rnorm);

// After the iteration: x −= U zacc, optional true-residual check (returns false if the check
// failed: then the space was reset and the caller reruns), update of the space.
// boundary = scale·next is the next Lanczos vector (null if none); update: whether the Lanczos
// data may be used (converged or ran out of iterations).
bool end_solve(KSP ksp, RecycleKsp& d, Mat a, Vec scratch, bool update, Vec next, PetscScalar scale);

}  // namespace bilearn::krylov
