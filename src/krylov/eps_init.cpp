#include "bilearn/krylov/eps_init.hpp"

#include <slepceps.h>

#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/recycle_space.hpp"
#include "bilearn/krylov/vec_block.hpp"

namespace bilearn::krylov {

PetscInt eps_initial_space(Mat h, PetscInt k, const std::string& ksp_prefix, RecycleSpace& space) {
  if (k <= 0) return 0;
  using OwnedEPS = Handle<EPS, EPSDestroy>;
  OwnedEPS eps;
  BILEARN_CHECK(EPSCreate(PetscObjectComm((PetscObject)h), eps.out()));
  BILEARN_CHECK(EPSSetOperators(eps, h, nullptr));
  BILEARN_CHECK(EPSSetProblemType(eps, EPS_HEP));
  BILEARN_CHECK(EPSSetWhichEigenpairs(eps, EPS_SMALLEST_MAGNITUDE));
  BILEARN_CHECK(EPSSetDimensions(eps, k, PETSC_DEFAULT, PETSC_DEFAULT));
  BILEARN_CHECK(EPSSetTolerances(eps, 1e-4, 1000));
  const std::string prefix = ksp_prefix + "ksp_recycle_init_eps_";
  BILEARN_CHECK(EPSSetOptionsPrefix(eps, prefix.c_str()));
  BILEARN_CHECK(EPSSetFromOptions(eps));
  BILEARN_CHECK(EPSSolve(eps));
  PetscInt nconv = 0;
  BILEARN_CHECK(EPSGetConverged(eps, &nconv));
  const PetscInt n = std::min(nconv, k);
  if (n == 0) return 0;
  OwnedVec tmpl;
  BILEARN_CHECK(MatCreateVecs(h, tmpl.out(), nullptr));
  VecBlock vecs;
  vecs.allocate(tmpl, n);
  for (PetscInt i = 0; i < n; ++i) BILEARN_CHECK(EPSGetEigenvector(eps, i, vecs[i], nullptr));
  space.set_basis(n, vecs.data());
  return n;
}

}  // namespace bilearn::krylov
