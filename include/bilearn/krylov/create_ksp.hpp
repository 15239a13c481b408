// A KSP with -pc_type none unless options choose a PC (the recycling types accept SPD PCs since
// issue 17): the benchmarks, the deflation bound and the Krylov tests build their solvers with it.
#pragma once
#include <petscksp.h>

#include <string>

#include "bilearn/core/handles.hpp"

namespace bilearn::krylov {

// A KSP of `type` on comm with -pc_type none, options prefix `prefix` and tolerances rtol,
// abstol 1e-50, max_it (PETSC_DEFAULT keeps PETSc's). KSPSetFromOptions is left to the caller.
OwnedKSP create_ksp(MPI_Comm comm, const char* type, const std::string& prefix, PetscReal rtol, PetscInt max_it);

}  // namespace bilearn::krylov
