// The public interface of the Krylov package: recycling Krylov solvers as PETSc KSP types,
// usable from any PETSc program linked with (bilearn::krylov::register_package) or loading
// (-dll_append) libbilearn:
//   -ksp_type rminres   recycled MINRES for symmetric (possibly indefinite) H   (docs/algorithms.md §4.1)
//   -ksp_type rcg       recycled (deflated/augmented) CG for SPD H
// The recycle space lives in the KSP and survives KSPSolve calls with new operators. Options (all
// under the KSP's prefix, so -hyper_ksp_recycle_k for a KSP with prefix hyper_):
//   -ksp_recycle_k k             dimension of the recycle space (0: plain MINRES / CG)        [20]
//   -ksp_recycle_m m             Lanczos vectors per update cycle                            [3k]
//   -ksp_recycle_window w        cycle (all Lanczos vectors, m at a time) | first (the first m) [cycle]
//   -ksp_recycle_select s        ritz_s|ritz_l|ritz_both|hritz_s|hritz_l|rgen_l|rgen_s|rgen_l_left [ritz_both]
//   -ksp_recycle_nsc             stop on the estimated hypergradient error ‖J(x* − x)‖ (needs J)
//   -ksp_recycle_nsc_tol t       absolute tolerance of that estimate
//   -ksp_recycle_nsc_safety f    stop when the estimate is below f·t                         [0.3]
//   -ksp_recycle_nsc_rtol_floor ρ   NSC may stop only once ‖r‖ ≤ ρ‖b‖                       [1]
//   -ksp_recycle_init none|eps   first space from SLEPc (eigenvectors of smallest |λ|)
//   -ksp_recycle_update          update the space after each solve (false: frozen)          [true]
//   -ksp_recycle_check           verify the true residual after a recycled solve              [true]
//   -ksp_recycle_verbose         one line per solve (and per reset) on rank 0
// Preconditioning (docs/algorithms.md §4.5): an unset PC becomes none; any symmetric positive definite
// PC may be chosen (-pc_type circulant, jacobi, ...). Then rcg is deflated PCG (A-DEF2: with
// C = HU, W = UᵀC, x₀ += U W⁻¹Uᵀr₀, r₀ −= C W⁻¹Uᵀr₀, p = z + βp − U W⁻¹Cᵀz; one PC apply per
// iteration) and rminres is preconditioned MINRES with the same deflated preconditioner
// (I − U W⁻¹Cᵀ)M⁻¹ on residuals ⟂ U; with k = 0 they are KSPCG and KSPMINRES. The default norm is
// the unpreconditioned residual (rminres tracks it by the MINRES residual recurrence); the space is
// updated from Ritz pairs of M⁻¹H (selectors ritz_s, ritz_l, ritz_both; no NSC). A PC showing
// rᵀM⁻¹r ≤ 0 is rejected with an error.
#pragma once
#include <petscksp.h>

#define KSPRMINRES "rminres"
#define KSPRCG "rcg"

typedef struct {
  PetscInt dim;              /* dimension of the space used by the last solve */
  PetscInt next_dim;         /* dimension of the space carried to the next solve */
  PetscInt dropped;          /* columns dropped by the last preparation */
  PetscInt resets;           /* spaces discarded so far (layout change, NaN/Inf, failed check) */
  PetscInt operator_applies; /* products with H spent on the space in the last solve (C = HU, EPS) */
  PetscInt varying_applies;  /* products with the varying part R of a split in the last solve */
  PetscInt j_applies;        /* products with J in the last solve's update */
  PetscInt check_applies;    /* products with H for the true-residual check in the last solve */
  PetscInt pc_applies;       /* preconditioner applications in the last solve */
  PetscInt cycles;           /* update cycles in the last solve */
  PetscBool nsc_stopped;     /* the last solve stopped on the NSC estimate */
  PetscReal nsc_estimate;    /* last NSC estimate η = ‖Zᵀr‖ (0 if none) */
  PetscReal true_residual;   /* true residual norm after the last solve (if checked, else -1) */
  PetscBool restarted;       /* the last solve failed its check and was rerun without the space */
  PetscReal orthogonality;   /* ‖CᵀC − I‖_F of the last prepared space (-1 if not measured) */
  const char* source;        /* where C came from in the last solve: none, carried, split, apply */
  const char* message;       /* last reset/drop message ("" if none); valid until the next solve */
  PetscInt stored_vectors;   /* vectors held for recycling (space, candidate, cycle buffer, NSC block) */
} KSPRecycleInfo;

PETSC_EXTERN PetscErrorCode KSPCreate_RMINRES(KSP);
PETSC_EXTERN PetscErrorCode KSPCreate_RCG(KSP);

/* H = fixed + varying for the operators of the next solves (e.g. AᵀA + R_t): F·U is carried with
   the space and only varying·U is recomputed. Pass NULLs to remove. No-op for other KSP types. */
PETSC_EXTERN PetscErrorCode KSPRecycleSetOperatorSplit(KSP, Mat fixed, Mat varying);
/* J (p × n) for the rgen selectors and NSC: jmult(ctx, v, jv) computes the p numbers J v on every
   rank (collective). p = 0 or jmult = NULL removes it. No-op for other KSP types. */
PETSC_EXTERN PetscErrorCode KSPRecycleSetMixedOperator(KSP, PetscInt p, PetscErrorCode (*jmult)(void*, Vec, PetscReal*),
                                                       void* ctx);
/* Programmatic -ksp_recycle_k (m becomes max(3k, 10), the default of -ksp_recycle_m) and
   -ksp_recycle_update; options read by a later KSPSetFromOptions override them. No-ops for other
   KSP types. */
PETSC_EXTERN PetscErrorCode KSPRecycleSetK(KSP, PetscInt k);
PETSC_EXTERN PetscErrorCode KSPRecycleSetUpdate(KSP, PetscBool update);
/* Seeds the space for the next solve with copies of n vectors (at most k are kept). */
PETSC_EXTERN PetscErrorCode KSPRecycleSetSpace(KSP, PetscInt n, const Vec vecs[]);
/* Seeds `to`'s space for its next solve with `from`'s (both recycling KSPs of the same layout;
   no-op otherwise). Products F·U carried by `from` for a split are copied as well, so when `to`
   declares the same fixed part F only the varying part is applied to the copied space. */
PETSC_EXTERN PetscErrorCode KSPRecycleCopySpace(KSP from, KSP to);
/* Checkpoint state that goes with KSPRecycleGetSpace's vectors: the carried products F·U of a
   declared split (n_products = 0 when none are carried; borrowed) and whether the space was built
   by the update. KSPRecycleSetSpaceState restores vectors, products (NULL: none; they are declared
   for the split set on this KSP, which must hold the same F) and the flag, so that the next solve
   is the one an uninterrupted run would do. No-ops for other KSP types. */
PETSC_EXTERN PetscErrorCode KSPRecycleGetSpaceState(KSP, PetscInt* n_products, const Vec** products,
                                                    PetscBool* from_update);
PETSC_EXTERN PetscErrorCode KSPRecycleSetSpaceState(KSP, PetscInt n, const Vec vecs[], const Vec products[],
                                                    PetscBool from_update);
/* The space carried to the next solve (borrowed; valid until the next solve or reset). */
PETSC_EXTERN PetscErrorCode KSPRecycleGetSpace(KSP, PetscInt* n, const Vec** vecs);
PETSC_EXTERN PetscErrorCode KSPRecycleResetSpace(KSP);
/* Whether the KSP is of a recycling type (rminres, rcg): the KSPRecycle functions act on it. */
PETSC_EXTERN PetscErrorCode KSPRecycleIsRecycling(KSP, PetscBool* recycling);
PETSC_EXTERN PetscErrorCode KSPRecycleGetInfo(KSP, KSPRecycleInfo* info);
