#include "bilearn/driver/sample_groups.hpp"

#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {

SampleGroups::~SampleGroups() {
  if (group != MPI_COMM_NULL) MPI_Comm_free(&group);
  if (across_groups != MPI_COMM_NULL) MPI_Comm_free(&across_groups);
}

void split_into_groups(MPI_Comm comm, SampleGroups& groups) {
  PetscMPIInt size, rank;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &rank);
  {
    OptionsBlock block(comm, "", "Sample parallelism");
    groups.count = block.integer("-samples_groups", "number of sample groups (sub-communicators)", 1, 1);
  }
  require(groups.count <= size,
          "-samples_groups " + std::to_string(groups.count) + " exceeds the number of ranks " + std::to_string(size));
  // Contiguous groups of (almost) equal size: group g holds ranks [g·size/G, (g+1)·size/G).
  groups.index = static_cast<PetscInt>((static_cast<long long>(rank) * groups.count) / size);
  while (static_cast<long long>(groups.index + 1) * size / groups.count <= rank) ++groups.index;
  MPI_Comm_split(comm, static_cast<int>(groups.index), rank, &groups.group);
  PetscMPIInt rank_in_group;
  MPI_Comm_rank(groups.group, &rank_in_group);
  MPI_Comm_split(comm, rank_in_group, static_cast<int>(groups.index), &groups.across_groups);
  // Every group must have the same size for across_groups to hold one rank of each group.
  PetscMPIInt group_size, min_size, max_size;
  MPI_Comm_size(groups.group, &group_size);
  MPI_Allreduce(&group_size, &min_size, 1, MPI_INT, MPI_MIN, comm);
  MPI_Allreduce(&group_size, &max_size, 1, MPI_INT, MPI_MAX, comm);
  require(min_size == max_size, "-samples_groups " + std::to_string(groups.count) +
                                    " must divide the number of ranks " + std::to_string(size));
}

}  // namespace bilearn
