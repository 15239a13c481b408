// Recycle spaces in checkpoints: the space a sample's hypergradient KSP carries to its next
// solve (KSPRecycleGetSpace), stored next to the sample's warm starts so that a resumed run
// starts its first recycled solve from the same space as the uninterrupted run would.
//
// File (PETSc binary, written by the sample's group):
//   PetscInt[4]  magic, format version (2; 1 is read too), count n (may be 0), rows (pixels)
//   PetscInt[2]  (version 2) products p (0 or n), built by the update (0/1)
//   n vectors    VecView of global vectors of the image DMDA: natural order, so a file
//                written on any number of ranks loads on any other
//   p vectors    the carried products F·Ũ of the split (KSPRecycleGetSpaceState)
// The space vectors themselves are plain MPI vectors of the DMDA's parallel layout (no DM):
// they are gathered in natural order onto rank 0, which writes them (io/natural_vec_file), and
// loaded into DMDA vectors before the seed.
// With the carried F·Ũ and the "built by the update" flag restored, the first solve after a
// resume prepares the space exactly as the uninterrupted run would (same drops, same C).
#pragma once
#include <petscksp.h>

#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn::krylov {

// What goes with the basis: the carried F·Ũ (empty if none) and the update flag.
struct SpaceState {
  std::vector<OwnedVec> products;
  bool from_update = false;
};

// Writes the space ksp carries to its next solve to path (n = 0 when ksp is null, is not a
// recycling type, or has no space). dm: the DMDA whose global vectors have the space's layout
// (the image grid). Collective over the DM's communicator; a file that cannot be written (full
// disk) is an InputError on every rank of it, naming the file and the system's reason.
void write_recycle_space(const std::string& path, KSP ksp, DM dm);

// Reads a file written by write_recycle_space into global vectors of dm. Returns "" on success
// (a missing file is an empty space: checkpoints written before spaces were saved), else the
// reason in one line naming the file (wrong header, rows or size); space is then empty.
// In a checkpoint, a damaged file is normally caught before this by the MANIFEST checksums (the
// resume then falls back to an older checkpoint); these checks catch a file that passes them
// but does not fit this run. Collective over the DM's communicator; the verdict is the same on
// all its ranks.
std::string read_recycle_space(const std::string& path, DM dm, std::vector<OwnedVec>& space,
                               SpaceState* state = nullptr);

// Seeds ksp's recycle space with copies of space (and state, if given) (no-op when space is empty or ksp is not a
// recycling type). Collective over the KSP's communicator.
void seed_recycle_space(KSP ksp, const std::vector<OwnedVec>& space, const SpaceState* state = nullptr);

}  // namespace bilearn::krylov
