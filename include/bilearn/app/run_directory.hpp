// The output directory of `train --out DIR`: a directory that already holds a run (finished or
// interrupted after a checkpoint) is never written into silently. `--resume DIR` continues such a
// run; `--force` starts afresh after removing the earlier run's files (its checkpoints above all,
// which a later --resume would otherwise pick up). The leftovers of a run that stopped before its
// first checkpoint hold nothing of value and are replaced, with one line saying so.
#pragma once
#include <mpi.h>

#include <string>
#include <vector>

namespace bilearn {

// The files and folders of an earlier run found in dir (names relative to dir, sorted); empty
// when dir is missing, empty or holds none of them.
std::vector<std::string> earlier_run_files(const std::string& dir);

// For `train --out dir`, unless force is set: throws InputError (on every rank) if dir holds an
// earlier run of value (summary.json or a checkpoint-<n> folder). Returns true, and says so in
// one line, if dir holds only the leftovers of a run that stopped before its first checkpoint
// (initial PNGs, history.csv, partial checkpoint.tmp-* writes): nothing of value, which the
// caller removes with remove_earlier_run once the new run's input is good. Changes nothing.
// Collective.
bool refuse_earlier_run(MPI_Comm comm, const std::string& dir, bool force);

// Rank 0 removes the files of an earlier run in dir (train --force, once the new run's input
// has been read); throws InputError on every rank if it cannot. Collective.
void remove_earlier_run(MPI_Comm comm, const std::string& dir);

}  // namespace bilearn
