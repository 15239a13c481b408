// Optional explicit Aᵀ for assembled operators whose MatMultTranspose is slow (the AIJ
// transpose kernel scatters into the output: for tomography it runs at a fraction of the
// memory bandwidth of MatMult). store_explicit_transpose(A) forms Aᵀ once (MatTranspose)
// and routes MatMultTranspose / MatMultTransposeAdd of A through MatMult / MatMultAdd of
// Aᵀ, so every caller of MatMultTranspose(A, ...) gets the fast path; A stays an AIJ
// matrix for everything else. Costs the memory of a second copy of A.
// Chosen by -problem_store_transpose (read by create_forward_model).
#pragma once
#include <petscmat.h>

namespace bilearn {

// Forms and attaches Aᵀ (idempotent). Collective.
void store_explicit_transpose(Mat A);

// The attached Aᵀ, or nullptr (borrowed reference). Not collective.
Mat explicit_transpose(Mat A);

// Reads -problem_store_transpose (default false). Collective.
bool read_store_transpose_option(MPI_Comm comm);

}  // namespace bilearn
