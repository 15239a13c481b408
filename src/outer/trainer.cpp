#include "bilearn/outer/trainer.hpp"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/directory.hpp"
#include "bilearn/io/history_plot.hpp"
#include "bilearn/outer/checkpoint.hpp"
#include "bilearn/outer/history.hpp"
#include "bilearn/outer/optimizer.hpp"
#include "bilearn/outer/progress.hpp"
#include "bilearn/outer/state_codec.hpp"
#include "bilearn/outer/stop_signal.hpp"

namespace bilearn {

nlohmann::json TrainResult::to_json() const {
  nlohmann::json j = {{"initial_upper_loss", initial_upper_loss},
                      {"upper_loss", upper_loss},
                      {"grad_norm", grad_norm},
                      {"theta", theta},
                      {"outer_iterations", outer_iterations},
                      {"armijo_backtracks_total", armijo_backtracks_total},
                      {"krylov_iterations_total", krylov_iterations_total},
                      {"lower_iterations_total", lower_iterations_total},
                      {"evaluations_total", evaluations_total},
                      {"optimizer", optimizer},
                      {"stop_reason", stop_reason},
                      {"stop_message", stop_message},
                      {"resumed_from", resumed_from},
                      {"warnings", warnings},
                      {"outer_seconds",
                       {{"total", seconds_total},
                        {"evaluations", seconds_evaluations},
                        {"rejected_trials", seconds_rejected},
                        {"checkpoint", seconds_checkpoint},
                        {"history", seconds_history}}}};
  j.update(optimizer_summary);
  return j;
}

namespace {

constexpr const char* state_format = "bilearn-outer-state-1";

const char* signal_name(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "a signal";
}

class Run {
 public:
  Run(MPI_Comm comm, UpperProblem& problem, const OuterOptions& opts, const std::string& out_dir)
      : comm_(comm),
        problem_(problem),
        opts_(opts),
        out_dir_(out_dir),
        oracle_(comm, problem, opts_),
        opt_(create_optimizer(opts_, problem.num_samples())) {
    int rank = 0;
    MPI_Comm_rank(comm_, &rank);
    rank0_ = rank == 0;
    result_.optimizer = opt_->name();
    if (!out_dir_.empty()) make_directory(comm_, out_dir_);
    view_from_options("outer_", "-view", [&](PetscViewer viewer) { view(viewer); });
  }

  // -outer_view: the optimiser, then the loop's own options.
  void view(PetscViewer viewer) const {
    opt_->view(viewer);
    BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
    if (opts_.type == "gd") BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "line search: %s\n", opts_.ls.c_str()));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "max_it %d, gtol %g, initial step %g\n", (int)opts_.max_it,
                                         (double)opts_.gtol, (double)opts_.step));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "adaptive tolerances: %s\n", opts_.adaptive_tol ? "on" : "off"));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "checkpoint every %d accepted steps, keep %d\n",
                                         (int)opts_.checkpoint_every, (int)opts_.checkpoint_keep));
    BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
  }

  TrainResult fresh(std::vector<PetscReal> theta0) {
    require(static_cast<PetscInt>(theta0.size()) == oracle_.dim(),
            "initial theta has " + std::to_string(theta0.size()) + " values, the problem has " +
                std::to_string(oracle_.dim()) + " hyperparameters");
    start_ = MPI_Wtime();
    oracle_.project(theta0);
    Point p0;
    {
      Progress progress(comm_, opts_.progress, "no", opts_.max_it, 0, 0);
      EvaluationLines lines(oracle_, progress, opts_, [] { return std::string("initial evaluation"); });
      p0 = oracle_.evaluate_point(theta0, {}, opt_->initial_tolerance());
    }
    if (!std::isfinite(p0.eval.loss) || !all_finite(p0.eval.gradient))
      throw NumericalError("the upper loss or its gradient is not finite at the initial theta");
    initial_loss_ = p0.eval.loss;
    oracle_.set_current(std::move(p0));
    opt_->start(oracle_);
    problem_.accept(oracle_.current().theta);
    add_counters();
    history_ = std::make_unique<HistoryFile>(comm_, history_path(), history_header(oracle_.dim()));
    record_history(nullptr);
    return loop();
  }

  TrainResult resumed() {
    require(!out_dir_.empty(), "--resume needs the output directory of the run to continue");
    start_ = MPI_Wtime();
    CheckpointData data = read_checkpoint(comm_, checkpoint_root());
    for (const auto& w : data.warnings)
      if (rank0_) std::fprintf(stderr, "bilearn: warning: %s\n", w.c_str());
    result_.warnings = data.warnings;
    restore(data);
    problem_.load_state(data.problem_dir);
    history_ = std::make_unique<HistoryFile>(comm_, history_path(), history_header(oracle_.dim()), data.history);
    record_history(nullptr);  // the plot of the checkpointed steps
    result_.resumed_from = k_;
    last_checkpoint_ = k_;
    return loop();
  }

 private:
  // A progress line for each evaluation the oracle does while this lives (the oracle outlives
  // the Progress it prints to), named by label().
  class EvaluationLines {
   public:
    EvaluationLines(Oracle& oracle, Progress& progress, const OuterOptions& opts, std::function<std::string()> label)
        : oracle_(oracle) {
      const PetscReal min_seconds = opts.progress_evaluation_seconds;
      oracle_.set_observer([&progress, min_seconds, label](const Evaluation& e, bool gradient, double seconds) {
        progress.evaluation(label(), e.loss, gradient, e.krylov_iterations, e.lower_iterations, seconds, min_seconds);
      });
    }
    ~EvaluationLines() { oracle_.set_observer(nullptr); }
    EvaluationLines(const EvaluationLines&) = delete;
    EvaluationLines& operator=(const EvaluationLines&) = delete;

   private:
    Oracle& oracle_;
  };

  std::string checkpoint_root() const { return out_dir_ + "/checkpoint"; }
  std::string history_path() const { return out_dir_.empty() ? "" : out_dir_ + "/history.csv"; }

  // Appends row (if any) to history.csv and redraws history.png from the whole history the
  // run holds (a resumed run's includes the checkpointed steps): always without a row (start,
  // end), after a step when -outer_history_plot_seconds have passed since the last drawing
  // (rank 0's clock decides for every rank).
  void record_history(const HistoryRow* row) {
    const double t0 = MPI_Wtime();
    {
      log::ScopedStage stage(log::stages().io);
      log::ScopedEvent event(log::events().io);
      if (row) history_->append(*row);
      int draw = !row || t0 - last_plot_ >= opts_.history_plot_seconds ? 1 : 0;
      MPI_Bcast(&draw, 1, MPI_INT, 0, comm_);
      if (draw && !out_dir_.empty()) {
        write_history_plot(comm_, out_dir_ + "/history.png", history_->series());
        last_plot_ = t0;
        plotted_steps_ = k_;
      }
    }
    result_.seconds_history += MPI_Wtime() - t0;
  }

  void add_counters() {
    const StepCounters& c = oracle_.counters();
    result_.evaluations_total += c.evaluations;
    result_.krylov_iterations_total += c.krylov_iterations;
    result_.lower_iterations_total += c.lower_iterations;
    result_.seconds_evaluations += c.evaluation_seconds;
    result_.seconds_rejected += c.rejected_seconds;
    oracle_.reset_counters();
  }

  double elapsed() const { return elapsed_before_ + (MPI_Wtime() - start_); }

  nlohmann::json state() const {
    const Point& p = oracle_.current();
    std::vector<PetscReal> theta_decimal(p.theta);
    return {{"format", state_format},
            {"optimizer", opts_.type},
            {"ls", opts_.ls},
            {"dim", oracle_.dim()},
            {"iteration", k_},
            {"theta", hex_reals(p.theta)},
            {"theta_decimal", theta_decimal},
            {"loss", hex_real(p.eval.loss)},
            {"gradient", hex_reals(p.eval.gradient)},
            {"error_bound", hex_real(p.eval.error_bound)},
            {"samples", p.samples},
            {"tolerance", hex_real(p.tolerance)},
            {"initial_upper_loss", hex_real(initial_loss_)},
            {"totals",
             {{"backtracks", result_.armijo_backtracks_total},
              {"krylov_iterations", result_.krylov_iterations_total},
              {"lower_iterations", result_.lower_iterations_total},
              {"evaluations", result_.evaluations_total}}},
            {"elapsed_seconds", elapsed()},
            {"optimizer_state", opt_->save()}};
  }

  void restore(const CheckpointData& data) {
    const nlohmann::json& s = data.state;
    const std::string where = "checkpoint '" + data.dir + "'";
    try {
      require(s.at("format").get<std::string>() == state_format, where + ": unknown state format");
      const std::string type = s.at("optimizer").get<std::string>();
      require(type == opts_.type,
              where + " was written by -outer_type " + type + ", this run uses -outer_type " + opts_.type);
      if (type == "gd")
        require(s.at("ls").get<std::string>() == opts_.ls,
                where + " was written with -outer_ls " + s.at("ls").get<std::string>() + ", this run uses " + opts_.ls);
      require(s.at("dim").get<PetscInt>() == oracle_.dim(),
              where + " has " + std::to_string(s.at("dim").get<PetscInt>()) + " hyperparameters, the problem has " +
                  std::to_string(oracle_.dim()));
      Point p;
      p.theta = parse_hex_reals(s.at("theta"), where + " theta");
      p.eval.loss = parse_hex_real(s.at("loss").get<std::string>(), where + " loss");
      p.eval.gradient = parse_hex_reals(s.at("gradient"), where + " gradient");
      p.eval.error_bound = parse_hex_real(s.at("error_bound").get<std::string>(), where + " error_bound");
      p.samples = s.at("samples").get<std::vector<PetscInt>>();
      p.tolerance = parse_hex_real(s.at("tolerance").get<std::string>(), where + " tolerance");
      require(static_cast<PetscInt>(p.theta.size()) == oracle_.dim() &&
                  static_cast<PetscInt>(p.eval.gradient.size()) == oracle_.dim(),
              where + ": theta or gradient has the wrong length");
      oracle_.set_current(std::move(p));
      k_ = s.at("iteration").get<PetscInt>();
      initial_loss_ = parse_hex_real(s.at("initial_upper_loss").get<std::string>(), where + " initial loss");
      const auto& t = s.at("totals");
      result_.armijo_backtracks_total = t.at("backtracks").get<PetscInt>();
      result_.krylov_iterations_total = t.at("krylov_iterations").get<PetscInt>();
      result_.lower_iterations_total = t.at("lower_iterations").get<PetscInt>();
      result_.evaluations_total = t.at("evaluations").get<PetscInt>();
      elapsed_before_ = s.at("elapsed_seconds").get<double>();
      opt_->load(s.at("optimizer_state"));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + ": state.json lacks a field (" + e.what() + ")");
    }
  }

  void checkpoint() {
    if (out_dir_.empty()) return;
    const double t0 = MPI_Wtime();
    write_checkpoint(comm_, checkpoint_root(), k_, state(), history_->text(), problem_, opts_.checkpoint_keep);
    last_checkpoint_ = k_;
    result_.seconds_checkpoint += MPI_Wtime() - t0;
  }

  TrainResult loop() {
    Progress progress(comm_, opts_.progress, opts_.progress_live, opts_.max_it, k_, elapsed_before_);
    EvaluationLines lines(oracle_, progress, opts_, [this] {
      return "step " + std::to_string(k_ + 1) + ", evaluation " + std::to_string(oracle_.counters().evaluations);
    });
    for (const auto& w : result_.warnings) progress.message("warning: " + w);
    if (result_.resumed_from >= 0)
      progress.message("outer: resumed from " + checkpoint_name(k_) + " (" + opt_->name() + ")");
    std::string reason, message;
    char buf[256];
    for (;;) {
      if (k_ >= opts_.max_it) {
        reason = "max_it";
        message = "reached -outer_max_it " + std::to_string(opts_.max_it);
        break;
      }
      const PetscReal st = oracle_.stationarity(oracle_.current());
      if (st <= opts_.gtol) {
        reason = "gtol";
        std::snprintf(buf, sizeof(buf), "gradient norm %.3e <= -outer_gtol %.3e", static_cast<double>(st),
                      static_cast<double>(opts_.gtol));
        message = buf;
        break;
      }
      const std::vector<PetscReal> previous = oracle_.current().theta;
      const std::string phase_before = opt_->phase();
      StepOutcome out = opt_->step(oracle_, k_ + 1);
      for (const auto& m : opt_->take_messages()) progress.message(m);
      const StepCounters counters = oracle_.counters();
      add_counters();
      result_.armijo_backtracks_total += out.backtracks;
      if (!out.accepted) {
        if (k_ == 0) throw NumericalError("outer step 1 failed, no step was accepted: " + out.message);
        reason = "line_search_failed";
        message = out.message;
        break;
      }
      ++k_;
      const Point& p = oracle_.current();
      problem_.accept(p.theta);

      HistoryRow row;
      row.iteration = k_;
      row.upper_loss = p.eval.loss;
      row.grad_norm = norm2(p.eval.gradient);
      row.step = out.step;
      row.backtracks = out.backtracks;
      row.krylov_iterations = counters.krylov_iterations;
      row.lower_iterations = counters.lower_iterations;
      row.seconds = elapsed();
      std::vector<PetscReal> move(p.theta);
      for (size_t i = 0; i < move.size(); ++i) move[i] -= previous[i];
      row.step_norm = norm2(move);
      row.evaluations = counters.evaluations;
      row.tolerance = p.tolerance;
      row.phase = out.phase.empty() ? phase_before : out.phase;
      row.theta = p.theta;
      record_history(&row);
      progress.step(row);

      if (opts_.checkpoint_every > 0 && k_ % opts_.checkpoint_every == 0) checkpoint();
      int sig = stop_signal_received(), any = 0;
      MPI_Allreduce(&sig, &any, 1, MPI_INT, MPI_MAX, comm_);
      if (any) {
        if (last_checkpoint_ != k_) checkpoint();
        reason = "signal";
        message = std::string("received ") + signal_name(any) + ", stopped after iteration " + std::to_string(k_) +
                  (out_dir_.empty() ? "" : "; checkpoint written, continue with --resume " + out_dir_);
        break;
      }
    }
    if (last_checkpoint_ != k_) checkpoint();
    if (plotted_steps_ != k_) record_history(nullptr);  // the plot shows every step of the run
    // A mini-batch iterate gets one full evaluation so that upper_loss is the full L(θ).
    Point final_point = oracle_.current();
    if (!final_point.samples.empty()) {
      final_point = oracle_.evaluate_point(final_point.theta, {});
      add_counters();
    }
    progress.message("outer: stopped (" + reason + "): " + message);
    result_.theta = final_point.theta;
    result_.initial_upper_loss = initial_loss_;
    result_.upper_loss = final_point.eval.loss;
    result_.grad_norm = norm2(final_point.eval.gradient);
    result_.outer_iterations = k_;
    result_.stop_reason = reason;
    result_.stop_message = message;
    result_.optimizer_summary = opt_->summary();
    result_.seconds_total = MPI_Wtime() - start_;
    return result_;
  }

  StopSignalGuard signals_;  // first: a signal during the initial evaluation is caught too
  MPI_Comm comm_;
  UpperProblem& problem_;
  const OuterOptions opts_;
  std::string out_dir_;
  Oracle oracle_;
  std::unique_ptr<Optimizer> opt_;
  std::unique_ptr<HistoryFile> history_;
  bool rank0_ = false;
  PetscInt k_ = 0;
  PetscInt last_checkpoint_ = -1;
  PetscReal initial_loss_ = 0;
  double start_ = 0, elapsed_before_ = 0;
  double last_plot_ = 0;         // MPI_Wtime of the last drawing of history.png
  PetscInt plotted_steps_ = -1;  // k_ at that drawing
  TrainResult result_;
};

}  // namespace

TrainResult train(MPI_Comm comm, UpperProblem& problem, const std::vector<PetscReal>& theta0, const OuterOptions& opts,
                  const std::string& out_dir) {
  log::ScopedStage stage(log::stages().outer);
  Run run(comm, problem, opts, out_dir);
  return run.fresh(theta0);
}

TrainResult resume(MPI_Comm comm, UpperProblem& problem, const OuterOptions& opts, const std::string& out_dir) {
  log::ScopedStage stage(log::stages().outer);
  Run run(comm, problem, opts, out_dir);
  return run.resumed();
}

}  // namespace bilearn
