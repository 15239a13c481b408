// An MPIAIJ matrix built from its local diagonal and off-diagonal blocks in CSR form,
// without copies: the arrays move into the matrix (MatCreateMPIAIJWithSplitArrays uses
// them in place) and are freed with it. Used where a builder already knows every row
// exactly (the X-ray transform, the stored transpose), so that the only memory is the
// matrix itself: no MatSetValues per entry, no stash, no preallocation slack.
#pragma once
#include <petscmat.h>

#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn {

struct SplitCsr {
  // Diagonal block: m rows, columns local to this rank's column range (0 … n−1).
  std::vector<PetscInt> i, j;
  std::vector<PetscScalar> a;
  // Off-diagonal block: m rows, GLOBAL column indices outside the column range.
  std::vector<PetscInt> oi, oj;
  std::vector<PetscScalar> oa;
};

// Bytes of an m-row block pair holding nnz entries: values, column indices, two row-pointer arrays.
double split_csr_bytes(PetscInt m, double nnz);

// The m×n local part (M×N global) of an MPIAIJ matrix from csr (moved in; columns sorted
// ascending in every row of both blocks). Collective.
OwnedMat create_mpiaij_from_split(MPI_Comm comm, PetscInt m, PetscInt n, PetscInt M, PetscInt N, SplitCsr&& csr);

}  // namespace bilearn
