// PETSc binary files (Vec/Mat in PETSc's own format, no .info side file).
#pragma once
#include <petscviewer.h>

#include <string>

#include "bilearn/core/handles.hpp"

namespace bilearn {

// Opens path for FILE_MODE_READ or FILE_MODE_WRITE on comm. Collective.
OwnedViewer open_binary_viewer(MPI_Comm comm, const std::string& path, PetscFileMode mode);

}  // namespace bilearn
