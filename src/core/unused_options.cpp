#include "bilearn/core/unused_options.hpp"

#include <petscsys.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {
namespace {

// Options of PETSc's that are read after the command has run (PetscFinalize: -options_left,
// -options_view, -mpidump, -checkstack, -memory_view_summary, -log_mpe, -log_perfstubs), only
// along with another option (-malloc_view_threshold, -options_suppress_deprecated_warnings)
// or only when something is drawn (-nox, -nox_warning; job scripts pass them out of habit).
// Names without the leading '-'; measured with PETSc 3.18: every other PETSc option given to
// `bilearn operator` (-log_view, -malloc_dump, -info, ...) is read by then.
bool read_late(const std::string& name) {
  for (const char* late :
       {"options_left", "options_view", "mpidump", "checkstack", "memory_view_summary", "log_mpe", "log_perfstubs",
        "malloc_view_threshold", "options_suppress_deprecated_warnings", "nox", "nox_warning"})
    if (name == late) return true;
  return false;
}

}  // namespace

std::vector<std::string> unused_options(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  // Rank 0's unread options are the candidates; every rank then says which it read.
  std::string joined;
  if (rank == 0) {
    PetscInt n = 0;
    char **names = nullptr, **values = nullptr;
    BILEARN_CHECK(PetscOptionsLeftGet(nullptr, &n, &names, &values));
    for (PetscInt i = 0; i < n; ++i)
      if (!read_late(names[i])) joined += std::string(names[i]) + '\n';
    BILEARN_CHECK(PetscOptionsLeftRestore(nullptr, &n, &names, &values));
  }
  int length = static_cast<int>(joined.size());
  BILEARN_CHECK(MPI_Bcast(&length, 1, MPI_INT, 0, comm));
  joined.resize(static_cast<size_t>(length));
  BILEARN_CHECK(MPI_Bcast(joined.data(), length, MPI_CHAR, 0, comm));

  std::vector<std::string> candidates;
  for (size_t start = 0, end; start < joined.size(); start = end + 1) {
    end = joined.find('\n', start);
    candidates.push_back(joined.substr(start, end - start));
  }
  std::vector<int> used(candidates.size(), 0);
  for (size_t i = 0; i < candidates.size(); ++i) {
    PetscBool u = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsUsed(nullptr, candidates[i].c_str(), &u));
    used[i] = u == PETSC_TRUE ? 1 : 0;
  }
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, used.data(), static_cast<int>(used.size()), MPI_INT, MPI_MAX, comm));
  std::vector<std::string> unused;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (!used[i]) unused.push_back("-" + candidates[i]);
  std::sort(unused.begin(), unused.end());
  return unused;
}

void check_unused_options(MPI_Comm comm) {
  bool strict = false;
  {
    OptionsBlock block(comm, "", "Unused options");
    strict = block.flag("-strict_options",
                        "fail (instead of warning) when an option given was never read: a misspelt name, or an "
                        "option of a method the run does not use",
                        false);
  }
  if (help_requested()) return;  // the command only printed its options: none was used
  const std::vector<std::string> unused = unused_options(comm);
  if (unused.empty()) return;
  std::string listed;
  for (const auto& name : unused) listed += (listed.empty() ? "" : " ") + name;
  const std::string what = "unused option" + std::string(unused.size() > 1 ? "s" : "") +
                           " (misspelt, or not used by "
                           "this run; `bilearn <command> -help` lists the options): " +
                           listed;
  if (strict) throw InputError(what + " (-strict_options)");
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    std::fprintf(stderr, "bilearn: warning: %s\n", what.c_str());
    std::fflush(stderr);
  }
}

}  // namespace bilearn
