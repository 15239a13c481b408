/* PC type "circulant": a Fourier preconditioner for H = F + R on images of a 2-D DMDA
   (docs/algorithms.md §4.5; Fessler & Booth 1999, "dcd0"), usable from any PETSc program linked with
   (or loading, -dll_append) libbilearn:  -pc_type circulant.

     M⁻¹ v = g ⊙ crop(F⁻¹(F(pad(g ⊙ v)) / L)),   L = Λ_F + Λ_R,   g = (diag(H)/mean(L))^(−1/2)

   Λ_F is the symbol of the fixed part F (e.g. AᵀA + εI), estimated once per operator from impulse
   responses; Λ_R the symbol of the varying part R (e.g. the regulariser Hessian at the current
   point), estimated from one product with a comb of impulses whenever R's state changes. Without a
   declared split the whole Pmat is treated as fixed and re-estimated whenever its state changes.
   Symmetric positive definite by construction (a principal block of an SPD circulant, scaled).

   Options (under the PC's prefix):
     -pc_circulant_kernel corners|centre|diagonal  impulse responses of F at the four corners
                                                   (full-range kernel), at the centre, or
                                                   mean(diag F)·I (masks, user matrices)  [corners]
     -pc_circulant_kernel_reach p                  F's kernel cut beyond p pixels along
                                                   either axis (0: the full range)         [max(64, N/4)]
     -pc_circulant_boundary zero|periodic          zero-padded 2N grid, or the N grid itself
                                                   (exact for periodic convolutions)       [zero]
     -pc_circulant_scaling diagonal|none           Fessler–Booth diagonal scaling          [diagonal]
     -pc_circulant_curvature comb|exact            R's mean kernel from one comb product, or
                                                   exactly ((2r+1)² products)              [comb]
     -pc_circulant_radius r                        R's stencil radius                      [2 × DMDA stencil width]
     -pc_circulant_clip c                          symbol floor, relative to its maximum   [1e-8]  */
#pragma once
#include <petscdm.h>
#include <petscksp.h>

#define PCCIRCULANT "circulant"

typedef struct {
  PetscInt fixed_setups;   /* estimates of Λ_F so far */
  PetscInt varying_setups; /* estimates of Λ_R so far */
  PetscInt fixed_products; /* products with F (or the whole Pmat) spent on estimates */
  PetscInt fixed_stored;   /* Λ_F taken from the symbol store instead of an estimate */
  PetscInt varying_products; /* products with R spent on estimates */
  PetscInt applies;        /* PCApply calls */
  PetscInt clamped;        /* diagonal entries raised to the floor in the last scaling */
  PetscReal symbol_min;    /* min and max of L after clipping (their ratio bounds the circulant's */
  PetscReal symbol_max;    /* condition number) */
  PetscInt grid_rows;      /* the periodic grid M0 × M1 */
  PetscInt grid_cols;
} PCCirculantInfo;

PETSC_EXTERN PetscErrorCode PCCreate_Circulant(PC);
/* The image grid (a 2-D DMDA with dof 1) of the vectors the PC acts on; default: the PC's DM. */
PETSC_EXTERN PetscErrorCode PCCirculantSetDM(PC, DM);
/* Pmat = fixed + varying: Λ of `fixed` is estimated once (until its state changes), Λ of `varying`
   whenever its state changes. NULLs remove the split. No-op for other PC types. */
PETSC_EXTERN PetscErrorCode PCCirculantSetOperatorSplit(PC, Mat fixed, Mat varying);
/* The kernel model to use unless -pc_circulant_kernel was given: "corners", "centre" or "diagonal".
   No-op for other PC types. */
PETSC_EXTERN PetscErrorCode PCCirculantSetDefaultKernel(PC, const char kernel[]);
PETSC_EXTERN PetscErrorCode PCCirculantGetInfo(PC, PCCirculantInfo*);

/* A place that keeps Λ_F beyond one PC (bilearn serve keeps it for the next job with the same
   operator). find: *found = PETSC_TRUE on every rank of comm with this rank's n values of the
   symbol named key, or PETSC_FALSE on every rank (collective); keep: stores them (collective). */
typedef struct {
  PetscErrorCode (*find)(MPI_Comm comm, const char key[], PetscInt n, PetscReal values[], PetscBool* found);
  PetscErrorCode (*keep)(MPI_Comm comm, const char key[], PetscInt n, const PetscReal values[]);
} PCCirculantSymbolStore;
/* With a declared split, takes Λ_F from store when it holds it and keeps a new estimate there.
   key names F: two PCs given the same key have the same F on grids of the same layout (the PC
   adds its kernel, boundary, clip and grid size). NULL store or an empty key: Λ_F stays with this
   PC (the default). No-op for other PC types. */
PETSC_EXTERN PetscErrorCode PCCirculantSetFixedSymbolStore(PC, const char key[], const PCCirculantSymbolStore* store);
