// The --json summary every command writes: common fields (command, ranks, wall_seconds,
// peak_rss_mb_max_rank) plus what the command adds.
#pragma once
#include <mpi.h>

#include <nlohmann/json.hpp>
#include <string>

namespace bilearn {

// Peak resident set size of this process in MiB (from getrusage).
double peak_rss_mb();

// The common fields; wall_seconds counts from start (MPI_Wtime). theta, upper_loss and the
// iteration totals start empty/null/0 for commands that evaluate nothing. Collective.
nlohmann::json base_summary(MPI_Comm comm, const std::string& command, double start_time);

// Writes j (indented) to path on rank 0 (through path.tmp, renamed: never half a file); other
// ranks do nothing. Throws InputError if the file cannot be written, with the reason (reported
// consistently on every rank; only rank 0's reason is known). Collective.
void write_json(MPI_Comm comm, const std::string& path, const nlohmann::json& j);

}  // namespace bilearn
