// Options that were given (command line, -options_file, PETSC_OPTIONS) but never read: a
// misspelt name (-typo_option 3) or an option of something the run did not use. After a
// command, bilearn warns about them (one line on stderr) or, with -strict_options, fails.
#pragma once
#include <mpi.h>

#include <string>
#include <vector>

namespace bilearn {

// Names ("-name") of the options that no rank of comm has read, sorted,
// without the ones PETSc reads only later (-options_left in PetscFinalize, ...). An
// option read on one rank only (by one sample group, say) counts as read. Collective.
std::vector<std::string> unused_options(MPI_Comm comm);

// Reads -strict_options (listed by -help; does nothing else then). Then, if some options are
// unused: with -strict_options, throws InputError naming them; otherwise world rank 0 prints
// "bilearn: warning: unused option(s) ..." on stderr. Collective.
void check_unused_options(MPI_Comm comm);

}  // namespace bilearn
