// Registration of the Krylov package with PETSc: the KSP types rminres and rcg and the PC type
// circulant (one line each in src/krylov/package.cpp), and the log events they record into. Called by the program and
// the test main after the Session, and by PetscDLLibraryRegister_bilearn for -dll_append.
#pragma once

namespace bilearn::krylov {

// Idempotent; needs PETSc initialised.
void register_package();

}  // namespace bilearn::krylov
