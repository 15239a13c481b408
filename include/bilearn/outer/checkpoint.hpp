// Checkpoints of the outer loop, written atomically under ROOT (= --out DIR/checkpoint):
//
//   ROOT/checkpoint.tmp-<n>/   written first: state.json, history.csv, problem/ (the
//                              problem's save_state), MANIFEST.json (size and checksum of
//                              every file, and a checksum of the manifest itself); fsync'ed
//   ROOT/checkpoint-<n>/       the tmp directory renamed once complete
//   ROOT/LATEST                "checkpoint-<n>", replaced atomically (write LATEST.tmp, fsync,
//                              rename) after the directory rename
//
// A crash at any point leaves the previous checkpoint valid; the last `keep` checkpoints are
// kept. Reading verifies the manifest (sizes and checksums of every file); a truncated or
// corrupted checkpoint is reported in one line and the previous one is used. Only rank 0
// touches files (apart from the problem's save_state/load_state); verdicts are broadcast.
#pragma once
#include <mpi.h>
#include <petscsys.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bilearn/outer/upper_problem.hpp"

namespace bilearn {

std::string checkpoint_name(PetscInt n);  // "checkpoint-000007"

// Collective. Throws InputError (on every rank) if the checkpoint cannot be written.
void write_checkpoint(MPI_Comm comm, const std::string& root, PetscInt n, const nlohmann::json& state,
                      const std::string& history, UpperProblem& problem, PetscInt keep);

struct CheckpointData {
  PetscInt n = -1;
  std::string dir;          // ROOT/checkpoint-<n>
  std::string problem_dir;  // dir/problem, for UpperProblem::load_state
  nlohmann::json state;
  std::string history;
  std::vector<std::string> warnings;  // one line per damaged checkpoint that was skipped
};

// Finds the newest valid checkpoint (LATEST first, then checkpoint-* by number, newest
// first). Collective; InputError naming ROOT if none is valid. Does not call load_state.
CheckpointData read_checkpoint(MPI_Comm comm, const std::string& root);

// Verifies one checkpoint directory (local, no MPI): empty string if valid, else the reason
// in a few words naming the file ("state.json: size 120, manifest says 4017").
std::string verify_checkpoint(const std::string& dir);

}  // namespace bilearn
