// Eigenvectors of a symmetric operator from SLEPc: the first recycle space of
// -ksp_recycle_init eps (the k eigenvalues of smallest magnitude, options under
// <ksp prefix>ksp_recycle_init_eps_), and exact spaces for benchmarks.
#pragma once
#include <slepceps.h>

#include <string>

namespace bilearn::krylov {

class RecycleSpace;

// Up to `count` eigenpairs of the symmetric h at the end `which` (EPS_HEP, tolerance tol, at most
// max_it restarts, options under `prefix`); eigenvectors into out[0..], eigenvalues into values
// (may be null). Returns how many converged, at most count.
PetscInt symmetric_eigenvectors(Mat h, EPSWhich which, PetscInt count, PetscReal tol, PetscInt max_it,
                                const std::string& prefix, const Vec out[], PetscReal values[]);

// Computes up to k eigenvectors and seeds space with them. Returns the number of vectors.
PetscInt eps_initial_space(Mat h, PetscInt k, const std::string& ksp_prefix, RecycleSpace& space);

}  // namespace bilearn::krylov
