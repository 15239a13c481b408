#include "bilearn/krylov/create_ksp.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {

OwnedKSP create_ksp(MPI_Comm comm, const char* type, const std::string& prefix, PetscReal rtol, PetscInt max_it) {
  OwnedKSP ksp;
  BILEARN_CHECK(KSPCreate(comm, ksp.out()));
  BILEARN_CHECK(KSPSetOptionsPrefix(ksp, prefix.c_str()));
  BILEARN_CHECK(KSPSetType(ksp, type));
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, PCNONE));
  BILEARN_CHECK(KSPSetTolerances(ksp, rtol, 1e-50, PETSC_DEFAULT, max_it));
  return ksp;
}

}  // namespace bilearn::krylov
