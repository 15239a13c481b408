// bilearn reconstruct: solves the lower level at θ (-reg_theta) for every training sample;
// prints one line per sample, writes PNGs with --out DIR and the summary with --json F.
#include "bilearn/app/commands.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/driver/workspace.hpp"
#include "bilearn/io/directory.hpp"
#include "bilearn/io/json_summary.hpp"

namespace bilearn {

int run_reconstruct_command(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  auto ws = build_workspace(comm);
  if (help_requested()) return 0;  // the options are printed; nothing is solved
  EvaluationStats local;
  const PetscReal loss = ws->bilevel->reconstruct(ws->initial_theta, local);
  const EvaluationStats stats = reduce_stats(*ws, local);
  const SampleReport samples = gather_sample_report(*ws);
  BILEARN_CHECK(PetscPrintf(comm, "reconstruct: %s, N = %d, %d samples, theta = [%s]\n", ws->model.name.c_str(),
                            (int)ws->grid->n(), (int)samples.loss.size(), format_theta(ws->initial_theta).c_str()));
  for (size_t s = 0; s < samples.loss.size(); ++s)
    BILEARN_CHECK(PetscPrintf(comm, "  sample %3d  loss %.6e  PSNR %6.2f dB\n", (int)s, (double)samples.loss[s],
                              (double)samples.psnr[s]));
  BILEARN_CHECK(PetscPrintf(comm, "upper loss %.6e, lower iterations %d, %.2f s\n", (double)loss,
                            (int)stats.lower_iterations, MPI_Wtime() - start));
  if (!cl.out.empty()) {
    make_directory(comm, cl.out);
    write_reconstruction_pngs(*ws, cl.out, "recon", ws->bilevel->total_samples(), true);
  }
  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "reconstruct", start);
    add_evaluation_fields(j, ws->initial_theta, loss, stats, samples);
    j["problem"] = ws->model.name;
    add_operator_fields(j, operator_storage(ws->model.A, comm));
    j["n"] = ws->grid->n();
    j["samples"] = ws->bilevel->total_samples();
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
