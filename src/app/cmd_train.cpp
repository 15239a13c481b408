// bilearn train: bilevel learning of θ by the outer loop (-outer_*), writing into --out DIR
// (summary.json, history.csv, history.png redrawn after every accepted step, truth/initial/
// learned PNGs, reconstructions.png at the end, checkpoints) or continuing the run in
// --resume DIR.
#include <cmath>

#include "bilearn/app/commands.hpp"
#include "bilearn/app/run_directory.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/bilevel_upper_problem.hpp"
#include "bilearn/driver/reconstruction_snapshot.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/driver/workspace.hpp"
#include "bilearn/io/directory.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/outer/progress.hpp"
#include "bilearn/outer/stop_signal.hpp"
#include "bilearn/outer/trainer.hpp"

namespace bilearn {

int run_train_command(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  // SIGTERM/SIGUSR1 from here on stop the run after its next outer step (with a checkpoint),
  // also when they come during the set-up; after the loop they no longer interrupt the pictures
  // and summary.json (stop_signal.hpp).
  StopSignalGuard signals;
  const bool help = help_requested();  // -help: read (print) the options, train nothing
  require(!cl.out.empty() || !cl.resume.empty() || help, "train needs --out DIR (or --resume DIR to continue a run)");
  require(cl.out.empty() || cl.resume.empty() || cl.out == cl.resume,
          "--out and --resume name different directories; a resumed run continues in its own directory");
  require(!cl.force || cl.resume.empty(), "--force replaces an earlier run; it cannot be combined with --resume");
  const std::string dir = cl.resume.empty() ? cl.out : cl.resume;
  const bool resuming = !cl.resume.empty();
  // An earlier run: --resume or --force; only the leftovers of one that never checkpointed: replaced.
  const bool leftovers = !resuming && !help && refuse_earlier_run(comm, dir, cl.force);

  auto ws = build_workspace(comm);
  const OuterOptions options = read_outer_options(comm);
  if (help) return 0;
  if (!resuming && (cl.force || leftovers)) remove_earlier_run(comm, dir);  // once the new run's input is good
  make_directory(comm, dir);
  BilevelUpperProblem problem(*ws);
  const PetscInt pictures = 4;  // PNGs of the first few samples
  ReconstructionSnapshot initial;

  BILEARN_CHECK(PetscPrintf(comm, "train: %s, N = %d, %d samples, %s regulariser with %d parameters, %s\n",
                            ws->model.name.c_str(), (int)ws->grid->n(), (int)ws->bilevel->total_samples(),
                            ws->reg->name().c_str(), (int)ws->reg->num_params(),
                            resuming ? ("resuming from " + dir).c_str() : ("output in " + dir).c_str()));
  if (!resuming) {
    // The initial reconstructions (also the trainer's warm start at θ0).
    const double t0 = MPI_Wtime();
    const PetscReal loss = problem.reconstruct(ws->initial_theta);
    require(std::isfinite(loss), "the lower level cannot be solved at the initial theta (-reg_theta)");
    BILEARN_CHECK(PetscPrintf(comm, "train: initial reconstructions: upper loss %.6e, %s\n", (double)loss,
                              Progress::format_seconds(MPI_Wtime() - t0).c_str()));
    write_reconstruction_pngs(*ws, dir, "initial", pictures, true);
    initial = snapshot_reconstructions(*ws, pictures);
  }

  TrainResult result =
      resuming ? resume(comm, problem, options, dir) : train(comm, problem, ws->initial_theta, options, dir);

  // Learned reconstructions at the final θ (the last evaluation may have been a trial point).
  const double t1 = MPI_Wtime();
  const PetscReal final_loss = problem.reconstruct(result.theta);
  BILEARN_CHECK(PetscPrintf(comm, "train: learned reconstructions: upper loss %.6e, %s\n", (double)final_loss,
                            Progress::format_seconds(MPI_Wtime() - t1).c_str()));
  write_reconstruction_pngs(*ws, dir, "learned", pictures, false);
  const SampleReport samples = gather_sample_report(*ws);
  const ReconstructionSnapshot learned = snapshot_reconstructions(*ws, pictures);
  if (resuming) {
    // The interrupted run's initial reconstructions are not kept: solved again at θ0 (-reg_theta).
    const PetscReal loss = problem.reconstruct(ws->initial_theta);
    require(std::isfinite(loss), "the lower level cannot be solved at the initial theta (-reg_theta)");
    initial = snapshot_reconstructions(*ws, pictures);
  }
  const std::string drawn =
      write_reconstruction_figure(comm, dir + "/reconstructions.png", reconstruction_rows(initial, learned));

  nlohmann::json j = base_summary(comm, "train", start);
  j.update(result.to_json());
  j["upper_loss"] = final_loss;
  j["sample_loss"] = samples.loss;
  j["sample_psnr"] = samples.psnr;
  j["initial_sample_psnr"] = initial.psnr;
  j["problem"] = ws->model.name;
  add_operator_fields(j, operator_storage(ws->model.A, comm));
  j["regulariser"] = ws->reg->name();
  j["theta_names"] = ws->reg->param_names();
  j["n"] = ws->grid->n();
  j["samples"] = ws->bilevel->total_samples();
  j["samples_groups"] = ws->groups.count;
  j["lower_batch"] = ws->bilevel->solved_as_batch();  // the last evaluation of rank 0's group (docs/algorithms.md §4.7)
  j["method"] = ws->estimator->name();
  const EvaluationStats& t = problem.totals();
  j["seconds_split"] = {{"lower", t.lower_seconds},
                        {"krylov", t.krylov_seconds},
                        {"mixed", t.mixed_seconds},
                        {"evaluations", result.seconds_evaluations},
                        {"rejected_trials", result.seconds_rejected},
                        {"checkpoint", result.seconds_checkpoint},
                        {"history", result.seconds_history}};
  write_json(comm, dir + "/summary.json", j);
  if (!cl.json.empty()) write_json(comm, cl.json, j);
  BILEARN_CHECK(PetscPrintf(comm, "train: reconstructions.png:\n%s", drawn.c_str()));
  BILEARN_CHECK(PetscPrintf(comm,
                            "train: %s after %d outer iterations (%s); upper loss %.6e -> %.6e; theta = [%s]\n"
                            "       %d Krylov and %d lower-level iterations, %.1f s; results in %s\n",
                            result.stop_reason.c_str(), (int)result.outer_iterations, result.stop_message.c_str(),
                            (double)result.initial_upper_loss, (double)final_loss, format_theta(result.theta).c_str(),
                            (int)result.krylov_iterations_total, (int)result.lower_iterations_total,
                            MPI_Wtime() - start, dir.c_str()));
  return 0;
}

}  // namespace bilearn
