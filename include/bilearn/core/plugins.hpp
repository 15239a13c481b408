// Registration of bilearn's PETSc plug-ins (KSP types and the like). One line per plug-in
// in src/core/plugins.cpp; also called by PetscDLLibraryRegister_bilearn for -dll_append.
#pragma once

namespace bilearn {
void register_plugins();
}
