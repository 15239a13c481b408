// -ksp_recycle_init eps: the first recycle space from SLEPc, the eigenvectors of the k
// eigenvalues of smallest magnitude of H (options under <ksp prefix>ksp_recycle_init_eps_).
#pragma once
#include <petscmat.h>

#include <string>

namespace bilearn::krylov {

class RecycleSpace;

// Computes up to k eigenvectors and seeds space with them. Returns the number of vectors.
PetscInt eps_initial_space(Mat h, PetscInt k, const std::string& ksp_prefix, RecycleSpace& space);

}  // namespace bilearn::krylov
