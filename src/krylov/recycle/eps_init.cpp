#include "krylov/recycle/eps_init.hpp"

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "krylov/recycle/recycle_space.hpp"
#include "krylov/recycle/vec_block.hpp"

namespace bilearn::krylov {

PetscInt symmetric_eigenvectors(Mat h, EPSWhich which, PetscInt count, PetscReal tol, PetscInt max_it,
                                const std::string& prefix, const Vec out[], PetscReal values[]) {
  if (count <= 0) return 0;
  using OwnedEPS = Handle<EPS, EPSDestroy>;
  OwnedEPS eps;
  BILEARN_CHECK(EPSCreate(PetscObjectComm((PetscObject)h), eps.out()));
  BILEARN_CHECK(EPSSetOperators(eps, h, nullptr));
  BILEARN_CHECK(EPSSetProblemType(eps, EPS_HEP));
  BILEARN_CHECK(EPSSetWhichEigenpairs(eps, which));
  BILEARN_CHECK(EPSSetDimensions(eps, count, PETSC_DEFAULT, PETSC_DEFAULT));
  BILEARN_CHECK(EPSSetTolerances(eps, tol, max_it));
  BILEARN_CHECK(EPSSetOptionsPrefix(eps, prefix.c_str()));
  BILEARN_CHECK(EPSSetFromOptions(eps));
  BILEARN_CHECK(EPSSolve(eps));
  PetscInt nconv = 0;
  BILEARN_CHECK(EPSGetConverged(eps, &nconv));
  const PetscInt n = std::min(nconv, count);
  for (PetscInt i = 0; i < n; ++i) {
    PetscScalar lambda = 0;
    BILEARN_CHECK(EPSGetEigenpair(eps, i, &lambda, nullptr, out[i], nullptr));
    if (values) values[i] = PetscRealPart(lambda);
  }
  return n;
}

PetscInt eps_initial_space(Mat h, PetscInt k, const std::string& ksp_prefix, RecycleSpace& space) {
  if (k <= 0) return 0;
  OwnedVec tmpl;
  BILEARN_CHECK(MatCreateVecs(h, tmpl.out(), nullptr));
  VecBlock vecs;
  vecs.allocate(tmpl, k);
  const PetscInt n = symmetric_eigenvectors(h, EPS_SMALLEST_MAGNITUDE, k, 1e-4, 1000,
                                            ksp_prefix + "ksp_recycle_init_eps_", vecs.data(), nullptr);
  if (n > 0) space.set_basis(n, vecs.data());
  return n;
}

}  // namespace bilearn::krylov
