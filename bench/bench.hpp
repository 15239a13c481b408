// `bilearn bench <name>`: side-by-side benchmarks (never timed tests), compiled into the
// bilearn program, not the library. Each benchmark lives in its own file bench/bench_<name>.cpp
// and has one line in the table in bench/cmd_bench.cpp; its declaration goes below.
#pragma once
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "bilearn/app/commands.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/krylov/pc_circulant.h"

namespace bilearn {

struct BenchEntry {
  const char* name;     // bench <name>
  CommandFunction run;  // receives the whole command line (--json etc.)
  const char* summary;  // one line for the error message listing the benchmarks
};

const std::vector<BenchEntry>& bench_table();

// The command `bench <name>`: runs the benchmark cl.subcommand of the table.
int cmd_bench(const CommandLine& cl);
// Its entry for the program's command table (--help lists the benchmarks of bench_table()).
CommandEntry bench_command();

int bench_hypergrad(const CommandLine& cl);          // bench/bench_hypergrad.cpp
int bench_operator(const CommandLine& cl);           // bench/bench_operator.cpp
int bench_recycle(const CommandLine& cl);            // bench/bench_recycle.cpp
int bench_recycle_synthetic(const CommandLine& cl);  // bench/bench_recycle_synthetic.cpp
int bench_scale(const CommandLine& cl);              // bench/bench_scale.cpp
int bench_serve(const CommandLine& cl);              // bench/bench_serve.cpp

// PC applications so far of a KSP's circulant PC (0 for another PC or no KSP).
inline PetscInt circulant_applies(KSP ksp) {
  if (!ksp) return 0;
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  PetscBool circ = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)pc, PCCIRCULANT, &circ));
  if (!circ) return 0;
  PCCirculantInfo info{};
  BILEARN_CHECK(PCCirculantGetInfo(pc, &info));
  return info.applies;
}

// Seconds per call of op, from a run of at least min_seconds (slowest rank) after one
// warm-up call; the repetition count is decided collectively, so op may be collective.
struct Timing {
  double seconds_per_call = 0;
  long long calls = 0;
};
template <class Op>
Timing time_repeated(MPI_Comm comm, double min_seconds, Op&& op) {
  op();  // warm-up: first-touch, scatter set-up, caches
  long long reps = 1;
  for (;;) {
    MPI_Barrier(comm);
    const double start = MPI_Wtime();
    for (long long k = 0; k < reps; ++k) op();
    const double elapsed = max_over_ranks(comm, MPI_Wtime() - start);
    if (elapsed >= min_seconds || reps >= (1LL << 40)) return {elapsed / static_cast<double>(reps), reps};
    // Aim 20 % past min_seconds, at least double, at most ×100 per round.
    const double factor = elapsed > 0 ? 1.2 * min_seconds / elapsed : 100.0;
    reps = static_cast<long long>(std::ceil(static_cast<double>(reps) * std::clamp(factor, 2.0, 100.0)));
  }
}

}  // namespace bilearn
