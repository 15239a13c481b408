/* TaoLineSearch type "blockarmijo": Armijo backtracking with one step length per diagonal block
   of a separable objective f(X) = Σ_s f_s(x_s) on a stacked vector X = (x_1, …, x_B) (the layout
   of KSP lockstepcg: each rank's part holds its part of block 0, then of block 1, …; docs/
   algorithms.md §4.7). Block s of the trial point is x_s + α_s d_s; every trial evaluates all
   blocks at once (one call of the objective), each block whose Armijo condition
   f_s(x_s + α_s d_s) ≤ f_s(x_s) + c α_s ∇f_sᵀd_s holds keeps its α_s, the others backtrack
   (safeguarded quadratic interpolation, α ← clamp(α_q, α/10, α/2)). A block whose direction is
   not a descent direction takes its steepest-descent direction instead. So each block moves as
   a line search on f_s alone would move it, while the blocks share every evaluation: a sample
   that needs a short step no longer shortens the others'.

   The per-block values f_s at the last evaluated point come from a callback
   (TaoLineSearchBlockArmijoSetBlocks); without it the line search is an error. Options (prefix of
   the line search): -tao_ls_block_armijo_c (1e-4), -tao_ls_block_armijo_max_trials (30).
   A change of f_s within a few ulps counts as sufficient (near the minimiser the decrease falls
   below the rounding of f_s). Reports step = the smallest α_s of the blocks that moved. */
#pragma once
#include <petsctao.h>

#define TAOLINESEARCHBLOCKARMIJO "blockarmijo"

/* values(ctx, f): f[s] = f_s at the point of the objective's last evaluation (B numbers, the same
   on every rank). */
typedef PetscErrorCode (*TaoLineSearchBlockValuesFn)(void* ctx, PetscReal f[]);

PETSC_EXTERN PetscErrorCode TaoLineSearchCreate_BlockArmijo(TaoLineSearch ls);
PETSC_EXTERN PetscErrorCode TaoLineSearchBlockArmijoSetBlocks(TaoLineSearch ls, PetscInt blocks,
                                                              TaoLineSearchBlockValuesFn values, void* ctx);
