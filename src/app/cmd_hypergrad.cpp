// bilearn hypergrad: one hypergradient ∇L(θ) at θ (-reg_theta) by -hyper_method; prints it
// with the time split (lower solve, Krylov, J products) and peak memory per rank.
#include <cmath>

#include "bilearn/app/commands.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/driver/workspace.hpp"
#include "bilearn/io/directory.hpp"
#include "bilearn/io/json_summary.hpp"

namespace bilearn {

int run_hypergrad_command(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  auto ws = build_workspace(comm);
  if (help_requested()) return 0;  // the options are printed; nothing is solved
  UpperEvaluation eval = ws->estimator->evaluate(*ws->bilevel, ws->initial_theta, true);
  const EvaluationStats stats = reduce_stats(*ws, eval.stats);
  const SampleReport samples = gather_sample_report(*ws);
  nlohmann::json j = base_summary(comm, "hypergrad", start);
  add_evaluation_fields(j, ws->initial_theta, eval.loss, stats, samples);
  j["hypergradient"] = eval.gradient;
  j["method"] = ws->estimator->name();
  j["problem"] = ws->model.name;
  add_operator_fields(j, operator_storage(ws->model.A, comm));
  j["n"] = ws->grid->n();
  j["samples"] = ws->bilevel->total_samples();
  j["lower_batch"] = ws->bilevel->solved_as_batch();  // rank 0's group solved its samples together (docs/algorithms.md §4.7)
  PetscReal gnorm = 0;
  for (PetscReal g : eval.gradient) gnorm += g * g;
  gnorm = std::sqrt(gnorm);
  BILEARN_CHECK(PetscPrintf(comm, "hypergrad (%s): %s, N = %d, %d samples\n", ws->estimator->name().c_str(),
                            ws->model.name.c_str(), (int)ws->grid->n(), (int)samples.loss.size()));
  BILEARN_CHECK(PetscPrintf(comm, "  theta         [%s]\n", format_theta(ws->initial_theta).c_str()));
  BILEARN_CHECK(
      PetscPrintf(comm, "  hypergradient [%s]  (norm %.6e)\n", format_theta(eval.gradient).c_str(), (double)gnorm));
  BILEARN_CHECK(PetscPrintf(comm, "  upper loss    %.10e\n", (double)eval.loss));
  BILEARN_CHECK(PetscPrintf(comm,
                            "  time: lower %.3f s (%d its), Krylov %.3f s (%d its), J products %.3f s, "
                            "total %.3f s; peak RSS %.1f MiB (max rank)\n",
                            (double)stats.lower_seconds, (int)stats.lower_iterations, (double)stats.krylov_seconds,
                            (int)stats.krylov_iterations, (double)stats.mixed_seconds,
                            (double)j["wall_seconds"].get<double>(), (double)j["peak_rss_mb_max_rank"].get<double>()));
  if (!cl.out.empty()) {
    make_directory(comm, cl.out);
    write_reconstruction_pngs(*ws, cl.out, "recon", ws->bilevel->total_samples(), true);
  }
  if (!cl.json.empty()) write_json(comm, cl.json, j);
  return 0;
}

}  // namespace bilearn
