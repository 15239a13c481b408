// What deflation can do at best on one Hessian system: MINRES from zero against rminres from
// zero with a frozen recycle space of exact eigenvectors of H (half of the smallest, half of the
// largest eigenvalues, from SLEPc). Ritz vectors from earlier solves approximate these at best,
// so the ratio bounds the iteration saving any recycle-space selector of that size can give
// (used by `bench recycle -bench_exact`).
#pragma once
#include <petscmat.h>

namespace bilearn::krylov {

struct DeflationBound {
  PetscInt minres_iterations = 0;
  PetscInt deflated_iterations = 0;
  PetscInt eigenvectors = 0;                 // exact eigenvectors found (k unless SLEPc fell short)
  PetscReal lambda_min = 0, lambda_max = 0;  // extreme eigenvalues of H
  double eps_seconds = 0;                    // SLEPc time (not a cost any practical method pays)
};

// Both solves to relative residual rtol from x = 0; k = 0 gives only the MINRES count.
DeflationBound exact_deflation_bound(Mat h, Vec rhs, PetscInt k, PetscReal rtol);

}  // namespace bilearn::krylov
