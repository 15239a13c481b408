// The PETSc plug-in entry point: `-dll_append <dir>/libbilearn.so` in any PETSc program makes
// PETSc call PetscDLLibraryRegister_bilearn, which registers the Krylov package (the KSP types
// rminres and rcg, the PC type circulant, and the log events they use).
#include <petscsys.h>

#include "bilearn/core/error.hpp"
#include "bilearn/krylov/package.hpp"

extern "C" PETSC_VISIBILITY_PUBLIC PetscErrorCode PetscDLLibraryRegister_bilearn(void) {
  return bilearn::guarded(PETSC_COMM_WORLD, __func__, [] { bilearn::krylov::register_package(); });
}
