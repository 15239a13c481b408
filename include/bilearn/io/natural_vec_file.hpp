// Vectors of an image DMDA written to a PETSc binary file exactly as VecView writes them (natural
// order, so any rank count loads them with VecLoad), but by rank 0 alone: each vector is gathered
// onto rank 0 of the DM's communicator, which writes it through CheckedFile. A failed write (a
// full disk) therefore happens outside every collective call and is reported the same way on
// every rank, instead of stopping rank 0 inside a collective VecView while the others wait.
#pragma once
#include <petscdm.h>

#include <string>
#include <vector>

namespace bilearn {

// Writes header (PetscInt values, PETSc binary) followed by VecView's bytes of each of vecs
// (global vectors of the DMDA dm, or any vectors of its layout) to path; the file is not synced.
// Collective over dm's communicator. Returns "" or the reason it failed ("cannot write '...': No
// space left on device"), the same on every rank.
std::string write_natural_vecs(const std::string& path, DM dm, const std::vector<PetscInt>& header,
                               const std::vector<Vec>& vecs);

}  // namespace bilearn
