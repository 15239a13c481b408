// Inner products block by block on stacked vectors: B equal blocks, each rank's part holding its
// part of block 0, then of block 1, … (the layout of KSP lockstepcg and of the lower-level batch,
// docs/algorithms.md §4.7).
#pragma once
#include <petscvec.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace bilearn {

// For each pair (x, y): the B block inner products x_sᵀy_s, all reduced over comm in one
// MPI_Allreduce; out[k·B + s] for pair k. The local size must be a multiple of B.
void block_dots(MPI_Comm comm, PetscInt blocks, std::initializer_list<std::pair<Vec, Vec>> pairs,
                std::vector<PetscReal>& out);

}  // namespace bilearn
