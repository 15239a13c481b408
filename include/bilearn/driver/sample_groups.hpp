// Sample parallelism: -samples_groups G splits the ranks into G contiguous groups of equal
// size (MPI_Comm_split); each group owns samples g, g+G, g+2G, … on a grid of its own, and
// across_groups joins the ranks with the same rank inside their groups (for sums over samples).
#pragma once
#include <petscsys.h>

namespace bilearn {

struct SampleGroups {
  PetscInt count = 1;                      // G
  PetscInt index = 0;                      // this rank's group
  MPI_Comm group = MPI_COMM_NULL;          // ranks of this group (owned)
  MPI_Comm across_groups = MPI_COMM_NULL;  // same rank in every group (owned)
  SampleGroups() = default;
  SampleGroups(const SampleGroups&) = delete;
  SampleGroups& operator=(const SampleGroups&) = delete;
  ~SampleGroups();
};

// Reads -samples_groups and splits comm (InputError unless G divides the number of ranks).
// Collective.
void split_into_groups(MPI_Comm comm, SampleGroups& groups);

}  // namespace bilearn
