// The PETSc plug-in entry point: `-dll_append <dir>/libbilearn.so` in any PETSc program makes
// PETSc call PetscDLLibraryRegister_bilearn, which registers bilearn's KSP types (rminres, rcg)
// and log events.
#include <petscsys.h>

#include "bilearn/core/error.hpp"
#include "bilearn/core/session.hpp"

extern "C" PETSC_VISIBILITY_PUBLIC PetscErrorCode PetscDLLibraryRegister_bilearn(void) {
  return bilearn::guarded(PETSC_COMM_WORLD, __func__, [] { bilearn::register_with_petsc(); });
}
