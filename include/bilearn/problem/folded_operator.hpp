// A forward operator stored by its symmetry: the rows of A fall into parts, and the rows of a
// part are those of a few stored rows A_p read on transformed images,
//   (A x)_{target(ℓ, t)} = (A_p T_t x)_ℓ,   t = 0 .. m_p − 1,  (T_t x)_i = x_{source_t(i)},
// with T_t permutations of the pixels (T_0 = identity). Parallel-beam tomography over 180° is
// such an operator: the rays at θ + 90° are those at θ on the image turned by 90°, the rays at
// 180° − θ those at θ on the mirrored image (docs/scaling.md §6). Only the A_p (and, where
// chosen, A_pᵀ) are stored, and a product reads each A_p once for all its transforms: A x is
// one MAIJ(A_p, m_p) product per part on the interlaced (T_0 x, …, T_{m−1} x), Aᵀ y one
// MAIJ(A_pᵀ, m_p) product per part followed by x = Σ_t T_tᵀ u_t.
//
// The folded A is a MATSHELL with the layouts of the full matrix (rows: data in the full
// operator's row order and distribution; columns: the grid), so MatMult, MatMultTranspose,
// MatGetInfo (nonzeros of the full A), MatNorm (Frobenius) and MatCreateVecs work as for the
// assembled matrix. Products with b interlaced columns (the lockstep batch) come from
// block_operator: MAIJ(A_p, m_p·b) between the same kind of scatters.
#pragma once
#include <petscmat.h>

#include <functional>
#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn {

struct FoldPart {
  OwnedMat rows;  // A_p: MPIAIJ, columns on the grid
  // sources[t][k]: global index of the pixel T_t x reads at this rank's pixel k (local order);
  // sources[0] is the identity.
  std::vector<std::vector<PetscInt>> sources;
  // targets[ℓ·m + t]: the row of A that is row ℓ (this rank's, local order) of A_p T_t.
  std::vector<PetscInt> targets;
};

// The folded operator of parts that together give every row of A exactly once, with
// rows_local rows of A on this rank out of rows_global. Where the parts' transposes are stored
// and a product's interlaced transformed images (m·b components) exceed forward_by_transpose_mb
// MiB on a rank, A x is computed through A_pᵀ too (read in image order: cache-friendly for
// large N; -tomo_fold_transposed_mb). Collective.
OwnedMat create_folded_operator(std::vector<FoldPart> parts, PetscInt rows_local, PetscInt rows_global,
                                double forward_by_transpose_mb);

// Whether A is a folded operator.
bool is_folded(Mat A);

// The stored parts A_p of a folded A (borrowed), empty for any other matrix.
std::vector<Mat> folded_parts(Mat A);

// The operator on b interlaced columns (component s of entry i at b·i + s), as MatCreateMAIJ(A,
// b) gives it for an assembled A: MAIJ itself for AIJ matrices, the folded b-column shell for a
// folded A (A itself, referenced, for b = 1). Its MatMultTranspose uses A_pᵀ when stored.
OwnedMat block_operator(Mat A, PetscInt b);

// The number of columns, at least b and at most most, whose block_operator(A, ·) runs on
// PETSc's unrolled MAIJ kernels (1–11, 16 or 18 components; any other count takes the generic
// loop): for a folded A with four transforms, b = 3 (12 components) is 1.7× slower than b = 4
// at N = 256 (bench operator). b itself when no such count is in [b, most]. Padding columns
// are computed and discarded.
PetscInt fast_block_columns(Mat A, PetscInt b, PetscInt most);

// For a folded A: y = A x computed part by part and transform by transform, each
// (A_p T_t x) by rows(A_p, T_t x, out) (out in A_p's row layout), e.g. with exactly summed rows.
void folded_apply(Mat A, Vec x, Vec y, const std::function<void(Mat part, Vec x, Vec out)>& rows);

// For a folded A: out = Σ_p Σ_t T_tᵀ v_p with v_p = of_part(A_p) on the grid; for instance
// diag(AᵀA) from the column square sums of the parts.
void folded_sum_over_transforms(Mat A, Vec out, const std::function<OwnedVec(Mat part)>& of_part);

}  // namespace bilearn
