/* KSP type "lockstepcg": preconditioned CG run independently on each diagonal block of a
   block-diagonal SPD system whose vectors stack B blocks (docs/algorithms.md §4.7). On every rank
   the local part of a vector holds that rank's part of block 0, then of block 1, …, B − 1 (equal
   sizes). Each block has its own CG scalars, its own stopping test and its own count, so block s
   follows exactly the iterates of KSPCG on H_s w_s = b_s with the same PC; what the blocks share
   is each iteration's operator product and PC apply (one block product: A read once for all B
   samples) and its reductions (one MPI_Allreduce of B or 2B numbers instead of B). A block that
   has converged is frozen; the solve ends when every block has converged.

   Stopping, per block, as KSPConvergedDefault: ‖r_s‖ ≤ max(rtol·‖b_s‖, atol) with the norm type
   of the KSP (unpreconditioned: ‖r_s‖ against ‖b_s‖; preconditioned: ‖M⁻¹r_s‖ against ‖M⁻¹b_s‖);
   divergence ‖r_s‖ > divtol·‖b_s‖; a non-positive pᵀHp in a block that has not converged ends
   the solve with KSP_DIVERGED_INDEFINITE_MAT (rᵀM⁻¹r < 0: KSP_DIVERGED_INDEFINITE_PC). The
   iteration count is that of the slowest block; the residual norm reported is ‖r‖ over all blocks.

   KSPLockstepCGSetBlocks(ksp, B) sets B (1: plain PCG). -ksp_lockstep_cg_blocks B as an option.

   Frozen blocks cost nothing where the operator and the PC allow it: a frozen block's direction
   is zero, its residual no longer changes and its preconditioned residual is no longer read. An
   operator (the KSP's Amat) or a PC that can skip blocks composes the function
   KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS (PetscObjectComposeFunction) of type
   KSPLockstepCGSetActiveBlocksFn; lockstepcg calls it with the blocks still iterating before
   each product and PC apply whose set of blocks has changed, and with active = NULL (all blocks)
   when the solve ends. While a block is inactive, the operator must write zero into that block
   of its output (what H_s·0 would give); the PC may write anything finite there (it is not read). */
#pragma once
#include <petscksp.h>

#define KSPLOCKSTEPCG "lockstepcg"

PETSC_EXTERN PetscErrorCode KSPCreate_LockstepCG(KSP ksp);
PETSC_EXTERN PetscErrorCode KSPLockstepCGSetBlocks(KSP ksp, PetscInt blocks);
#define KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS "KSPLockstepCGSetActiveBlocks_C"
/* active[s]: block s is still iterating; NULL: every block (the operator's or PC's normal use). */
typedef PetscErrorCode (*KSPLockstepCGSetActiveBlocksFn)(PetscObject obj, PetscInt blocks, const PetscBool active[]);
/* Per-block relative tolerances: block s stops at ‖r_s‖ ≤ max(rtol[s]·‖b_s‖, atol) instead of the
   KSP's rtol (rtol[s] ≥ 1 with a zero guess: block s does not iterate at all). NULL: the KSP's rtol
   for every block. The values are copied; they hold until changed. */
PETSC_EXTERN PetscErrorCode KSPLockstepCGSetBlockTolerances(KSP ksp, const PetscReal rtol[]);
/* Iterations of block s in the last solve (s < B). */
PETSC_EXTERN PetscErrorCode KSPLockstepCGGetBlockIterations(KSP ksp, PetscInt block, PetscInt* iterations);
