// The training comparison of `bilearn bench hypergrad` (-bench_hypergrad_train_steps K): the train
// command's outer loop (outer/trainer.hpp, the same optimiser and line search for every method)
// run K steps with each estimator from the same θ0 and warm starts. Every run is judged the same
// way at its final θ: x̂ from the configured lower solve (as `train` draws its learned
// reconstructions), its upper loss L(θ_K) and mean PSNR. The estimator's own loss is reported
// beside it: for unrolled it is the loss of its K-step map, not comparable with the others.
// Costs are differences of the objective's counters around the run (products with A and Aᵀ,
// with H, with J) and the run's reduced evaluation statistics.
#include <cmath>
#include <cstdio>

#include "bench.hpp"
#include "bench_hypergrad.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/driver/bilevel_upper_problem.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/outer/trainer.hpp"

namespace bilearn::hypergrad_bench {
namespace {

// The upper problem of one run, recording the iterates the trainer accepts: θ0 first (accepted
// when the run starts), then θ_1, θ_2, ….
class RecordingProblem : public UpperProblem {
 public:
  explicit RecordingProblem(UpperProblem& inner) : inner_(inner) {}
  PetscInt dim() const override { return inner_.dim(); }
  PetscInt num_samples() const override { return inner_.num_samples(); }
  Evaluation evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc) override {
    return inner_.evaluate(theta, need_gradient, acc);
  }
  void accept(const std::vector<PetscReal>& theta) override {
    path.push_back(theta);
    inner_.accept(theta);
  }
  void save_state(const std::string& dir) override { inner_.save_state(dir); }
  void load_state(const std::string& dir) override { inner_.load_state(dir); }
  std::vector<std::vector<PetscReal>> path;

 private:
  UpperProblem& inner_;
};

// Products with A and Aᵀ so far, summed over the sample groups (equal on a group's ranks).
PetscInt operator_applications(Workspace& ws) {
  std::vector<PetscReal> count{static_cast<PetscReal>(ws.bilevel->operator_applications())};
  ws.bilevel->sum_over_groups(count);
  return static_cast<PetscInt>(std::llround(count[0]));
}

void use_estimator(Workspace& ws, std::unique_ptr<HypergradientEstimator> estimator) {
  ws.bilevel->set_space_source(nullptr);
  ws.estimator.reset();
  ws.estimator = std::move(estimator);
  HypergradientEstimator* e = ws.estimator.get();
  ws.bilevel->set_space_source([e](const SampleState& s) { return e->existing_sample_ksp(s); });
}

void restore_samples(Workspace& ws, const std::vector<OwnedVec>& start) {
  std::vector<SampleState>& samples = ws.bilevel->samples();
  for (size_t k = 0; k < samples.size(); ++k) {
    BILEARN_CHECK(VecCopy(start[k], samples[k].x_hat));
    BILEARN_CHECK(VecSet(samples[k].adjoint, 0.0));
  }
  ws.bilevel->set_active_samples({});
}

double mean(const std::vector<PetscReal>& v) {
  double s = 0;
  for (PetscReal x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

// L(θ) and the mean PSNR of x̂(θ) from the configured lower solve, warm started from the
// samples' current x̂.
std::pair<PetscReal, PetscReal> judge(Workspace& ws, BilevelUpperProblem& problem,
                                      const std::vector<PetscReal>& theta) {
  const PetscReal loss = problem.reconstruct(theta);
  return {loss, static_cast<PetscReal>(mean(gather_sample_report(ws).psnr))};
}

void print_table(MPI_Comm comm, const TrainComparison& c) {
  BILEARN_CHECK(PetscPrintf(comm,
                            "\ntraining comparison: %d outer steps of %s from the same theta0 (upper loss %.6e, "
                            "PSNR %.2f dB)\n  %-17s %12s %12s %8s %10s %8s %7s %7s %8s %8s %5s %5s %9s  %s\n",
                            (int)c.steps, c.optimizer.c_str(), (double)c.initial_loss, (double)c.initial_psnr, "method",
                            "L(theta_K)", "own loss", "PSNR", "H-equiv", "H prod", "J prod", "Krylov", "lower", "steps",
                            "iters", "evals", "seconds", "stop"));
  for (const TrainRow& r : c.rows)
    BILEARN_CHECK(PetscPrintf(comm, "  %-17s %12.6e %12.6e %8.3f %10.1f %8d %7d %7d %8d %8d %5d %5d %9.2f  %s\n",
                              r.method.c_str(), (double)r.tight_loss, (double)r.own_loss, (double)r.psnr,
                              r.h_equivalents(), (int)r.h_products, (int)r.j_products, (int)r.krylov_its,
                              (int)r.lower_its, (int)r.gradient_steps, (int)r.outer_iterations, (int)r.evaluations,
                              r.seconds, r.stop_reason.c_str()));
  BILEARN_CHECK(PetscPrintf(comm,
                            "L(theta_K), PSNR: x-hat of the configured lower solve at the final theta (mean PSNR over "
                            "samples); own loss: the estimator's (unrolled: of its gradient map); H-equiv: products "
                            "with A and A^T / 2 over the whole run; lower: Newton iterations (unrolled: its gradient "
                            "steps); steps: gradient-map steps; seconds: slowest rank.\n"));
}

}  // namespace

nlohmann::json TrainRow::to_json() const {
  nlohmann::json j = {{"method", method},
                      {"stop_reason", stop_reason},
                      {"outer_iterations", outer_iterations},
                      {"evaluations", evaluations},
                      {"armijo_backtracks_total", backtracks},
                      {"own_upper_loss", own_loss},
                      {"upper_loss", tight_loss},
                      {"mean_psnr", psnr},
                      {"operator_applications", operator_applications},
                      {"h_equivalents", h_equivalents()},
                      {"hessian_products", h_products},
                      {"mixed_products", j_products},
                      {"krylov_iterations", krylov_its},
                      {"lower_iterations", lower_its},
                      {"gradient_steps", gradient_steps},
                      {"seconds", seconds},
                      {"theta", theta}};
  if (!error.empty()) j["error"] = error;
  return j;
}

nlohmann::json TrainComparison::to_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const TrainRow& r : rows) out.push_back(r.to_json());
  return {{"steps", steps},
          {"optimizer", optimizer},
          {"initial_upper_loss", initial_loss},
          {"initial_mean_psnr", initial_psnr},
          {"rows", out}};
}

TrainComparison compare_training(Workspace& ws, const std::vector<Method>& methods, const OuterOptions& outer,
                                 const std::vector<OwnedVec>& start) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  TrainComparison c;
  c.steps = outer.max_it;
  c.optimizer = outer.type;
  const std::vector<PetscReal>& theta0 = ws.initial_theta;
  {
    BilevelUpperProblem problem(ws);
    restore_samples(ws, start);
    std::tie(c.initial_loss, c.initial_psnr) = judge(ws, problem, theta0);
  }
  for (const Method& m : methods) {
    use_estimator(ws, create_method(comm, m));
    restore_samples(ws, start);
    BilevelUpperProblem problem(ws);
    RecordingProblem recording(problem);
    TrainRow row;
    row.method = m.label;
    const PetscInt applications_before = operator_applications(ws);
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    try {
      const TrainResult t = train(comm, recording, theta0, outer, "");
      row.stop_reason = t.stop_reason;
      row.outer_iterations = t.outer_iterations;
      row.evaluations = t.evaluations_total;
      row.backtracks = t.armijo_backtracks_total;
      row.own_loss = t.upper_loss;
      row.theta = t.theta;
    } catch (const NumericalError& e) {  // thrown on every rank alike: no step was accepted
      row.stop_reason = "error";
      row.error = e.what();
      row.own_loss = PETSC_INFINITY;
      row.theta = theta0;
    }
    row.seconds = max_over_ranks(comm, MPI_Wtime() - t0);
    row.operator_applications = operator_applications(ws) - applications_before;
    const EvaluationStats& s = problem.totals();  // already reduced over groups
    row.h_products = s.hessian_products;
    row.j_products = s.mixed_products;
    row.krylov_its = s.krylov_iterations;
    row.lower_its = s.lower_iterations;
    row.gradient_steps = s.gradient_steps;
    std::tie(row.tight_loss, row.psnr) = judge(ws, problem, row.theta);
    if (m.label == "implicit" && !recording.path.empty())
      c.implicit_path.assign(recording.path.begin() + 1, recording.path.end());
    BILEARN_CHECK(PetscPrintf(
        comm, "  trained with %-17s %d steps (%s), L(theta_K) = %.6e, %.1f H-equivalents, %.1f s\n", m.label.c_str(),
        (int)row.outer_iterations, row.stop_reason.c_str(), (double)row.tight_loss, row.h_equivalents(), row.seconds));
    c.rows.push_back(std::move(row));
  }
  ws.bilevel->set_tolerate_failures(false);  // BilevelUpperProblem tolerates them; the accuracy table does not
  ws.bilevel->set_active_samples({});
  ws.bilevel->lower_solver().set_gradient_tolerance(0);
  print_table(comm, c);
  return c;
}

}  // namespace bilearn::hypergrad_bench
