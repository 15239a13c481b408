// A forward operator stored as half of itself: A = [A_h; A_h P], with P a permutation of the
// image (a rotation of the grid). Parallel-beam tomography over 180° with an even number of
// angles is such an operator: the rays at θ + 90° are those at θ on the image turned by 90°
// (docs/scaling.md §6). Only A_h (and, where chosen, A_hᵀ) is stored, so A takes half the
// memory, and a product reads A_h once for the two halves: A x is one MAIJ(A_h, 2) product
// with the pair (x, P x), Aᵀ y one MAIJ(A_hᵀ, 2) product followed by x = u₁ + Pᵀ u₂.
//
// The folded A is a MATSHELL with the layouts of the full matrix (rows: data in the full
// operator's row order and distribution; columns: the grid), so MatMult, MatMultTranspose and
// MatCreateVecs work as for the assembled matrix. Products with b interlaced columns (the
// lockstep batch) come from folded_block_operator: MAIJ(A_h, 2b) between the same scatters.
#pragma once
#include <petscmat.h>

#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn {

// The folded operator of half (rows 0 .. H−1 of A, MPIAIJ, columns on the grid) with
// rows_local rows of A on this rank (A has 2H rows) and, for each of this rank's pixels (in
// local order), the global index of the pixel P reads: (P x)_i = x_{source[i]}. Collective.
OwnedMat create_folded_operator(OwnedMat half, const std::vector<PetscInt>& source, PetscInt rows_local);

// A_h when A is a folded operator, else nullptr (borrowed).
Mat folded_half(Mat A);

// The operator on b interlaced columns (component s of entry i at b·i + s), as MatCreateMAIJ(A,
// b) gives it for an assembled A: MAIJ itself for AIJ matrices, the folded b-column shell for a
// folded A (A itself, referenced, for b = 1). Its MatMultTranspose uses A_hᵀ when stored.
OwnedMat block_operator(Mat A, PetscInt b);

// For a folded A: out = P x (x and out on the grid).
void folded_permute(Mat A, Vec x, Vec out);
// For a folded A: out += Pᵀ x.
void folded_permute_transpose_add(Mat A, Vec x, Vec out);
// For a folded A: y (A's row layout) = [first; second], first and second in A_h's row layout.
void folded_stack(Mat A, Vec first, Vec second, Vec y);

}  // namespace bilearn
