#include "bilearn/hypergrad/hypergradient_ksp.hpp"

#include <cstring>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/lower/hessian_structure.hpp"

namespace bilearn {
namespace {

constexpr const char* kPrefix = "hyper_";

bool user_set(const char* name) {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, kPrefix, name, &set));
  return set == PETSC_TRUE;
}

bool has_type(KSP ksp, const char* type) {
  PetscBool same = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)ksp, type, &same));
  return same == PETSC_TRUE;
}

// The KSP with its defaults (see the header), before the options are read.
void create_with_defaults(MPI_Comm comm, KSP* ksp) {
  BILEARN_CHECK(KSPCreate(comm, ksp));
  BILEARN_CHECK(KSPSetOptionsPrefix(*ksp, kPrefix));
  BILEARN_CHECK(KSPSetType(*ksp, KSPCG));
  BILEARN_CHECK(KSPSetTolerances(*ksp, 1e-6, PETSC_DEFAULT, PETSC_DEFAULT, 10000));
  BILEARN_CHECK(KSPSetNormType(*ksp, KSP_NORM_UNPRECONDITIONED));
  PC pc;
  BILEARN_CHECK(KSPGetPC(*ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
  BILEARN_CHECK(KSPSetInitialGuessNonzero(*ksp, PETSC_TRUE));
  // Another -hyper_ksp_type keeps its own norm and no PC (create_hypergradient_ksp): set here
  // already, so that -help prints what is used.
  char type[256] = "";
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsGetString(nullptr, kPrefix, "-ksp_type", type, sizeof(type), &set));
  if (set && std::strcmp(type, KSPCG) != 0) {
    if (!user_set("-ksp_norm_type")) BILEARN_CHECK(KSPSetNormType(*ksp, KSP_NORM_DEFAULT));
    if (!user_set("-pc_type")) BILEARN_CHECK(PCSetType(pc, PCNONE));
  }
}

bool guess_nonzero(KSP ksp) {
  PetscBool nonzero = PETSC_FALSE;
  BILEARN_CHECK(KSPGetInitialGuessNonzero(ksp, &nonzero));
  return nonzero == PETSC_TRUE;
}

// How a solve may start from the w it is given.
enum class Start { zero, warm_kept, warm_dropped };

// A vector like b kept with the KSP (composed onto it, created at its first use), so that
// judging a warm start allocates nothing per solve.
Vec residual_work(KSP ksp, Vec b) {
  const char* key = "bilearn_warm_start_residual";
  PetscObject cached = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)ksp, key, &cached));
  if (cached) return (Vec)cached;
  OwnedVec r;
  BILEARN_CHECK(VecDuplicate(b, r.out()));
  BILEARN_CHECK(PetscObjectCompose((PetscObject)ksp, key, (PetscObject)r.get()));  // the KSP holds it now
  return r.get();
}

// w = 0 is a cold start; otherwise w is kept unless it is a worse start for H w = b than zero:
// ‖b − H w‖ ≥ ‖b‖ (one H product).
Start judge_start(KSP ksp, Vec b, Vec w) {
  if (!guess_nonzero(ksp)) return Start::zero;
  PetscReal w_norm;
  BILEARN_CHECK(VecNorm(w, NORM_2, &w_norm));
  if (w_norm == 0) return Start::zero;
  Mat H;
  BILEARN_CHECK(KSPGetOperators(ksp, &H, nullptr));
  Vec r = residual_work(ksp, b);
  BILEARN_CHECK(MatMult(H, w, r));
  BILEARN_CHECK(VecAYPX(r, -1.0, b));  // r = b − H w
  PetscReal r_norm, b_norm;
  BILEARN_CHECK(VecNorm(r, NORM_2, &r_norm));
  BILEARN_CHECK(VecNorm(b, NORM_2, &b_norm));
  return r_norm < b_norm ? Start::warm_kept : Start::warm_dropped;  // a NaN residual is dropped too
}

// One KSPSolve. Unless start is warm_kept it runs from w = 0 with the KSP told so (a zero guess
// costs no H product), the KSP's initial-guess setting restored afterwards. Returns the iterations.
PetscInt solve_once(KSP ksp, Vec b, Vec w, Start start) {
  const bool from_zero = start != Start::warm_kept;
  const bool nonzero = guess_nonzero(ksp);
  if (from_zero) {
    BILEARN_CHECK(VecSet(w, 0.0));
    BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp, PETSC_FALSE));
  }
  const PetscErrorCode solved = KSPSolve(ksp, b, w);
  if (from_zero) BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp, nonzero ? PETSC_TRUE : PETSC_FALSE));
  BILEARN_CHECK(solved);
  PetscInt its;
  BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
  return its;
}

// A solve from w as judged, with the MINRES switch on an indefinite H. Returns how the last
// solve started.
Start solve_judged(KSP ksp, Vec b, Vec w, HypergradientSolve& out) {
  Start start = judge_start(ksp, b, w);
  out.warm_start_dropped = out.warm_start_dropped || start == Start::warm_dropped;
  out.iterations += solve_once(ksp, b, w, start);
  if (switch_to_minres_if_indefinite(ksp)) {
    out.switched_to_minres = true;
    // CG stopped at negative curvature: its iterate is judged like any warm start.
    start = judge_start(ksp, b, w);
    out.warm_start_dropped = out.warm_start_dropped || start == Start::warm_dropped;
    out.iterations += solve_once(ksp, b, w, start);
  }
  return start;
}

}  // namespace

HypergradientSolve solve_hypergradient_system(KSP ksp, Vec b, Vec w) {
  HypergradientSolve out;
  const Start start = solve_judged(ksp, b, w, out);
  KSPConvergedReason reason;
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
  const bool diverged =
      reason == KSP_DIVERGED_DTOL || reason == KSP_DIVERGED_NANORINF || reason == KSP_DIVERGED_BREAKDOWN;
  if (diverged && start == Start::warm_kept) {
    out.cold_retry = true;
    out.iterations += solve_once(ksp, b, w, Start::zero);
    if (switch_to_minres_if_indefinite(ksp)) {
      out.switched_to_minres = true;
      out.iterations += solve_once(ksp, b, w, Start::zero);
    }
  }
  return out;
}

void create_hypergradient_ksp(MPI_Comm comm, LowerProblem& objective, KSP* ksp) {
  create_with_defaults(comm, ksp);
  PC pc;
  BILEARN_CHECK(KSPGetPC(*ksp, &pc));
  BILEARN_CHECK(KSPSetOperators(*ksp, objective.hessian(), objective.hessian()));
  BILEARN_CHECK(KSPSetFromOptions(*ksp));
  // The defaults above belong to CG: another type chosen with -hyper_ksp_type keeps its own
  // norm (PETSc 3.18's MINRES has only the preconditioned one) and, unless -hyper_pc_type
  // says otherwise, no preconditioner, as before the circulant PC existed (those types are
  // chosen for indefinite H, where the circulant symbol from the mean curvature can fail).
  if (!has_type(*ksp, KSPCG)) {
    if (!user_set("-ksp_norm_type")) BILEARN_CHECK(KSPSetNormType(*ksp, KSP_NORM_DEFAULT));
    if (!user_set("-pc_type")) BILEARN_CHECK(PCSetType(pc, PCNONE));
  }
  objective.share_hessian_structure(*ksp);
}

void print_hypergradient_ksp_options(MPI_Comm comm) {
  OwnedKSP ksp;
  create_with_defaults(comm, ksp.out());
  BILEARN_CHECK(KSPSetFromOptions(ksp));
}

bool switch_to_minres_if_indefinite(KSP ksp) {
  KSPConvergedReason reason;
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
  if (reason != KSP_DIVERGED_INDEFINITE_MAT || user_set("-ksp_type")) return false;
  if (!has_type(ksp, KSPCG) && !has_type(ksp, KSPLOCKSTEPCG)) return false;  // lockstepcg: the batch's CG
  BILEARN_CHECK(KSPSetType(ksp, KSPMINRES));
  if (!user_set("-ksp_norm_type")) BILEARN_CHECK(KSPSetNormType(ksp, KSP_NORM_DEFAULT));
  // The circulant symbol is built from the mean curvature, which negative lobes of φ'' can
  // cancel: on the Lorentzian test problem MINRES with it did not converge in 10000
  // iterations, without a preconditioner it converges.
  if (!user_set("-pc_type")) {
    PC pc;
    BILEARN_CHECK(KSPGetPC(ksp, &pc));
    BILEARN_CHECK(PCSetType(pc, PCNONE));
  }
  return true;
}

}  // namespace bilearn
