// Output directories: created by rank 0 (with parents), the verdict shared by all ranks.
#pragma once
#include <mpi.h>

#include <string>

namespace bilearn {

// Creates dir (and parents) if missing. Throws InputError on every rank if it cannot. Collective.
void make_directory(MPI_Comm comm, const std::string& dir);

}  // namespace bilearn
