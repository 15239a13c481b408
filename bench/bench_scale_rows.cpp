// The rows of `bilearn bench scale` for one configuration (bench_scale.hpp): every row starts
// from the same state at each repeat (x̂ = 0 or the cold solution, w = 0, a fresh estimator
// with fresh KSPs), so repeats differ only in time. Counters are differences of the
// objective's product counters, the Newton KSP's total iterations and PC circulant's apply
// counts around the row; the peak RSS is reset before each repeat (/proc/self/clear_refs) and
// read from VmHWM after it.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "bench.hpp"
#include "bench_scale.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/driver/bilevel_upper_problem.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/outer/trainer.hpp"

namespace bilearn::scale {

const char* row_name(int row) {
  static const char* names[kRows] = {"cold_lower", "warm_lower", "hypergradient", "train"};
  return names[row];
}

const char* row_label(int row) {
  static const char* labels[kRows] = {"cold lower", "warm lower", "hypergradient", "train"};
  return labels[row];
}

nlohmann::json RowResult::to_json() const {
  nlohmann::json j = {
      {"seconds", seconds},
      {"first_seconds", first_seconds},
      {"cpu_seconds", cpu_seconds},
      {"newton_iterations", newton},
      {"newton_krylov_iterations", newton_krylov},
      {"hyper_krylov_iterations", hyper_krylov},
      {"h_products", h_products},
      {"f_products", f_products},
      {"r_products", r_products},
      {"pc_applies", pc_applies},
      {"seconds_split", {{"lower", lower_seconds}, {"krylov", krylov_seconds}, {"mixed", mixed_seconds}}},
      {"peak_rss_mb_max_rank", rss_mb},
      {"peak_rss_reset", rss_reset},
      {"upper_loss", loss}};
  if (!gradient.empty()) j["hypergradient"] = gradient;
  if (!error.empty()) j["error"] = error;
  if (!theta.empty()) {
    j["theta"] = theta;
    j["outer_iterations"] = outer_iterations;
    j["armijo_backtracks_total"] = backtracks;
  }
  return j;
}

namespace {

struct Counters {
  PetscInt h = 0, f = 0, r = 0, newton_krylov = 0, pc = 0;
};

// The counters of this group (identical on its ranks: every counted operation is collective).
Counters snapshot(Workspace& ws) {
  Counters c;
  LowerObjective& o = ws.bilevel->objective();
  c.h = o.hessian_products();
  c.f = o.data_hessian_products();
  c.r = o.reg_hessian_products();
  KSP newton = ws.bilevel->lower_solver().newton_ksp();
  if (newton) BILEARN_CHECK(KSPGetTotalIterations(newton, &c.newton_krylov));
  c.pc = circulant_applies(newton);
  for (const auto& s : ws.bilevel->samples()) c.pc += circulant_applies(ws.estimator->existing_sample_ksp(s));
  return c;
}

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Resets the kernel's peak RSS of this process (Linux ≥ 4.0); false if it could not.
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// VmHWM of this process in MiB (getrusage's peak if /proc is not readable).
double high_water_mb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream is(line.substr(6));
      double kib = 0;
      if (is >> kib) return kib / 1024.0;
    }
  return peak_rss_mb();
}

void reset_samples(Workspace& ws) {
  for (auto& s : ws.bilevel->samples()) {
    BILEARN_CHECK(VecSet(s.x_hat, 0.0));
    BILEARN_CHECK(VecSet(s.adjoint, 0.0));
  }
  ws.bilevel->set_active_samples({});
  ws.bilevel->set_tolerate_failures(false);
  ws.bilevel->lower_solver().set_gradient_tolerance(0);
}

// A fresh estimator (fresh KSPs: nothing carried over from an earlier row or repeat).
void fresh_estimator(Workspace& ws) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  ws.bilevel->set_space_source(nullptr);
  ws.estimator.reset();
  ws.estimator = create_estimator(comm);
  HypergradientEstimator* estimator = ws.estimator.get();
  ws.bilevel->set_space_source([estimator](const SampleState& s) { return estimator->existing_sample_ksp(s); });
}

// Runs setup() then run(result) plan.repeat times; counts from the first repeat, the fastest time.
// A failure names the row; a progress line follows every repeat.
template <class Setup, class Run>
RowResult measure(Workspace& ws, const RowPlan& plan, int row, Setup&& setup, Run&& run) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  RowResult best;
  for (PetscInt k = 0; k < plan.repeat; ++k) {
    setup();
    RowResult r;
    r.ran = true;
    const Counters before = snapshot(ws);
    r.rss_reset = all_ranks(comm, reset_peak_rss());
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime(), cpu0 = cpu_now();
    try {
      run(r);
    } catch (const InputError&) {
      throw;
    } catch (const std::exception& e) {
      // Solver failures are collective (TAO and the KSPs are): every rank records the row as
      // failed and the benchmark goes on with the next row; the command fails at the end.
      best = r;
      best.error = e.what();
      BILEARN_CHECK(PetscPrintf(comm, "  %s, %s: FAILED: %s\n", plan.tag.c_str(), row_label(row), e.what()));
      return best;
    }
    const double cpu = cpu_now() - cpu0;
    r.seconds = max_over_ranks(comm, MPI_Wtime() - t0);
    r.cpu_seconds = max_over_ranks(comm, cpu);
    r.rss_mb = max_over_ranks(comm, high_water_mb());
    const Counters after = snapshot(ws);
    r.h_products = after.h - before.h;
    r.f_products = after.f - before.f;
    r.r_products = after.r - before.r;
    r.newton_krylov = after.newton_krylov - before.newton_krylov;
    r.pc_applies = after.pc - before.pc;
    if (k == 0) {
      best = r;
      best.first_seconds = r.seconds;
    } else if (r.seconds < best.seconds) {
      best.seconds = r.seconds;
      best.cpu_seconds = r.cpu_seconds;
      best.lower_seconds = r.lower_seconds;
      best.krylov_seconds = r.krylov_seconds;
      best.mixed_seconds = r.mixed_seconds;
    }
    best.rss_mb = std::max(best.rss_mb, r.rss_mb);
    BILEARN_CHECK(PetscPrintf(comm, "  %s, %s: %.3f s, Newton %d, inner %d, hyperK %d, H-prod %d (repeat %d)\n",
                              plan.tag.c_str(), row_label(row), r.seconds, (int)r.newton, (int)r.newton_krylov,
                              (int)r.hyper_krylov, (int)r.h_products, (int)k + 1));
  }
  return best;
}

void take_stats(Workspace& ws, const EvaluationStats& local, RowResult& r) {
  const EvaluationStats s = reduce_stats(ws, local);
  r.newton = s.lower_iterations;
  r.hyper_krylov = s.krylov_iterations;
  r.lower_seconds = s.lower_seconds;
  r.krylov_seconds = s.krylov_seconds;
  r.mixed_seconds = s.mixed_seconds;
}

}  // namespace

std::vector<RowResult> measure_rows(Workspace& ws, const RowPlan& plan) {
  require(ws.groups.count == 1, "bench scale runs on one sample group: drop -samples_groups");
  const std::vector<PetscReal> theta = ws.initial_theta;
  std::vector<PetscReal> warm_theta = theta;
  for (auto& t : warm_theta) t += plan.warm_shift;
  std::vector<RowResult> rows(kRows);
  std::vector<OwnedVec> cold;  // the cold solutions, start of the warm row

  fresh_estimator(ws);
  if (plan.run[0] || plan.run[1]) {
    rows[0] = measure(
        ws, plan, 0, [&] { reset_samples(ws); },
        [&](RowResult& r) {
          EvaluationStats local;
          r.loss = ws.bilevel->reconstruct(theta, local);
          take_stats(ws, local, r);
        });
    for (auto& s : ws.bilevel->samples()) {
      OwnedVec copy;
      BILEARN_CHECK(VecDuplicate(s.x_hat, copy.out()));
      BILEARN_CHECK(VecCopy(s.x_hat, copy));
      cold.push_back(std::move(copy));
    }
    rows[0].ran = plan.run[0];
  }
  if (plan.run[1]) {
    rows[1] = measure(
        ws, plan, 1,
        [&] {
          reset_samples(ws);
          for (size_t k = 0; k < cold.size(); ++k) BILEARN_CHECK(VecCopy(cold[k], ws.bilevel->samples()[k].x_hat));
        },
        [&](RowResult& r) {
          EvaluationStats local;
          r.loss = ws.bilevel->reconstruct(warm_theta, local);
          take_stats(ws, local, r);
        });
  }
  if (plan.run[2]) {
    rows[2] = measure(
        ws, plan, 2,
        [&] {
          reset_samples(ws);
          fresh_estimator(ws);
        },
        [&](RowResult& r) {
          UpperEvaluation e = ws.estimator->evaluate(*ws.bilevel, theta, true);
          r.loss = e.loss;
          r.gradient = e.gradient;
          take_stats(ws, e.stats, r);
        });
  }
  if (plan.run[3]) {
    OuterOptions outer = plan.outer;
    outer.max_it = plan.train_steps;
    rows[3] = measure(
        ws, plan, 3,
        [&] {
          reset_samples(ws);
          fresh_estimator(ws);
        },
        [&](RowResult& r) {
          BilevelUpperProblem problem(ws);
          const TrainResult t = train(PETSC_COMM_WORLD, problem, theta, outer, "");
          r.loss = t.upper_loss;
          r.theta = t.theta;
          r.outer_iterations = t.outer_iterations;
          r.backtracks = t.armijo_backtracks_total;
          const EvaluationStats& s = problem.totals();  // already reduced over groups
          r.newton = s.lower_iterations;
          r.hyper_krylov = s.krylov_iterations;
          r.lower_seconds = s.lower_seconds;
          r.krylov_seconds = s.krylov_seconds;
          r.mixed_seconds = s.mixed_seconds;
        });
    reset_samples(ws);
  }
  return rows;
}

}  // namespace bilearn::scale
