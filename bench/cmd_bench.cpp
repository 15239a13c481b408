// `bilearn bench <name>`: dispatch to one benchmark of the table (one line per benchmark).
#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {

const std::vector<BenchEntry>& bench_table() {
  static const std::vector<BenchEntry> table = {
      {"hypergrad", bench_hypergrad,
       "every hypergradient estimator's error, cosine and cost against a tight implicit one"},
      {"operator", bench_operator, "assembly, bytes and MatMult/MatMultTranspose bandwidth of A vs a STREAM triad"},
      {"recycle", bench_recycle,
       "hypergradient systems of a real training run replayed with every Krylov/recycling method"},
      {"recycle-synthetic", bench_recycle_synthetic, "rminres/rcg time per iteration and a Laplacian sequence"},
      {"scale", bench_scale,
       "cold/warm lower solve, hypergradient and short training per N, new defaults beside the old configuration"},
      {"serve", bench_serve,
       "tomography jobs of one geometry: standalone mpiexec runs vs one service, with/without cache"},
  };
  return table;
}

CommandEntry bench_command() {
  std::string names;
  for (const auto& entry : bench_table()) names += (names.empty() ? "" : " | ") + std::string(entry.name);
  return {"bench", cmd_bench, "side-by-side benchmarks: bench " + names + " (bench -help describes them)"};
}

int cmd_bench(const CommandLine& cl) {
  std::string names, described;
  for (const auto& entry : bench_table()) {
    if (cl.subcommand == entry.name) return entry.run(cl);
    names += (names.empty() ? "" : ", ") + std::string(entry.name);
    described += (described.empty() ? "" : "; ") + std::string(entry.name) + ": " + entry.summary;
  }
  if (cl.subcommand.empty() && help_requested()) {  // bench -help: the benchmarks, one a line
    std::string text = "bilearn bench <name> [--json F] [options]; `bilearn bench <name> -help` lists its options:\n";
    for (const auto& entry : bench_table()) text += "  " + std::string(entry.name) + ": " + entry.summary + "\n";
    BILEARN_CHECK(PetscPrintf(PETSC_COMM_WORLD, "%s", text.c_str()));
    return 0;
  }
  if (cl.subcommand.empty()) throw InputError("bench needs a benchmark name (" + described + ")");
  throw InputError("unknown benchmark '" + cl.subcommand + "' (choose one of " + names + ")");
}

}  // namespace bilearn
