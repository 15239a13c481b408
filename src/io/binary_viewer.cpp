#include "bilearn/io/binary_viewer.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn {

OwnedViewer open_binary_viewer(MPI_Comm comm, const std::string& path, PetscFileMode mode) {
  OwnedViewer viewer;
  BILEARN_CHECK(PetscViewerCreate(comm, viewer.out()));
  BILEARN_CHECK(PetscViewerSetType(viewer, PETSCVIEWERBINARY));
  BILEARN_CHECK(PetscViewerFileSetMode(viewer, mode));
  BILEARN_CHECK(PetscViewerBinarySetSkipInfo(viewer, PETSC_TRUE));
  BILEARN_CHECK(PetscViewerFileSetName(viewer, path.c_str()));
  return viewer;
}

}  // namespace bilearn
