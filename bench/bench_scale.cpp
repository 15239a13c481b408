// `bilearn bench scale [--json F]`: for every N in -bench_scale_n (default 64,128) on the ranks it
// is launched with, the rows of bench_scale.hpp (cold lower solve, warm lower solve, one
// hypergradient, a short training run), each with the program's defaults ("new": Newton–CG with
// PC circulant, Eisenstat–Walker forcing, θ-continuation cold start, relative stopping test;
// CG + PC circulant for the hypergradient) beside the configuration before issue 17 ("old": the
// options in kOldOptions), side by side: wall time (fastest of -bench_repeat), Newton, inner and
// hypergradient Krylov iterations, products with H, PC circulant applications, peak RSS per rank
// and the time split, the ratios new/old of time and products, and whether both configurations
// give the same upper loss (-bench_scale_loss_rtol) and hypergradient (-bench_scale_grad_rtol).
// A row that disagrees is marked FAILED and the command fails after writing its table and JSON.
// Each configuration builds its own workspace while its options are in the options database.
// Defaults (overridden by explicit options): -problem tomo -reg_type foe -data_samples 1
// -outer_progress false -outer_adaptive_tol false (the training rows compare solver
// configurations at the same fixed tolerances, so that their final losses agree to
// -bench_scale_loss_rtol; adaptive tolerances move the loss by up to ~1e-3 of itself).
// scripts/scale_table.py compares the JSON of a 1-rank and a 2-rank run.
#include "bench_scale.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/json_summary.hpp"

namespace bilearn {
namespace {

using OptionList = std::vector<std::pair<std::string, std::string>>;

// The configuration before issue 17: TAO nls's own Steihaug–Toint CG with Jacobi at a fixed
// forcing term, plain Newton systems, no continuation, the absolute gradient test alone; MINRES
// without a preconditioner for the hypergradient.
const OptionList kOldOptions = {{"-lower_tao_nls_ksp_type", "stcg"}, {"-lower_tao_nls_pc_type", "jacobi"},
                                {"-lower_forcing", "fixed"},         {"-lower_newton", "plain"},
                                {"-lower_continuation", "0"},        {"-lower_gradient_rtol", "0"},
                                {"-hyper_ksp_type", "minres"},       {"-hyper_pc_type", "none"},
                                {"-lower_batch", "false"}};

// Puts options into the database for its lifetime and restores what was there before.
class ScopedOptions {
 public:
  explicit ScopedOptions(const OptionList& options) {
    for (const auto& [name, value] : options) {
      char buffer[PETSC_MAX_PATH_LEN] = "";
      PetscBool had = PETSC_FALSE;
      BILEARN_CHECK(PetscOptionsGetString(nullptr, nullptr, name.c_str(), buffer, sizeof(buffer), &had));
      saved_.push_back({name, had == PETSC_TRUE, buffer});
      BILEARN_CHECK(PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str()));
    }
  }
  ~ScopedOptions() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->had)
        PetscOptionsSetValue(nullptr, it->name.c_str(), it->value.empty() ? nullptr : it->value.c_str());
      else
        PetscOptionsClearValue(nullptr, it->name.c_str());
    }
  }
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  struct Saved {
    std::string name;
    bool had;
    std::string value;
  };
  std::vector<Saved> saved_;
};

void default_option(const char* name, const char* value) {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &set));
  if (!set) BILEARN_CHECK(PetscOptionsSetValue(nullptr, name, value));
}

struct ScaleOptions {
  std::vector<PetscInt> sizes;
  scale::RowPlan plan;
  bool rows[scale::kRows] = {true, true, true, true};      // -bench_scale_rows
  bool old_rows[scale::kRows] = {true, true, true, true};  // -bench_scale_old_rows
  PetscReal loss_rtol = 1e-4, grad_rtol = 1e-5;
};

// A comma list of row names (or "none") into selected.
void read_rows(OptionsBlock& b, const char* name, const char* help, bool (&selected)[scale::kRows]) {
  const std::string list = b.string(name, help, "cold_lower,warm_lower,hypergradient,train");
  std::string rest = list == "none" ? "" : list + ",";
  for (bool& r : selected) r = false;
  while (!rest.empty()) {
    const std::string row_name = rest.substr(0, rest.find(','));
    rest.erase(0, rest.find(',') + 1);
    bool known = false;
    for (int row = 0; row < scale::kRows; ++row)
      if (row_name == scale::row_name(row)) known = selected[row] = true;
    require(known, std::string(name) + ": unknown row '" + row_name +
                       "' (choose from cold_lower, warm_lower, hypergradient, train, or none)");
  }
}

ScaleOptions read_scale_options(MPI_Comm comm) {
  ScaleOptions o;
  OptionsBlock b(comm, "", "Scaling benchmark, new defaults against the old configuration (bilearn bench scale)");
  for (PetscReal s : b.reals("-bench_scale_n", "image sides N", {64, 128}, 64)) {
    require(s >= 8 && s <= 8192 && s == std::floor(s), "-bench_scale_n must hold integers in [8, 8192]");
    o.sizes.push_back(static_cast<PetscInt>(s));
  }
  require(!o.sizes.empty(), "-bench_scale_n needs at least one size");
  o.plan.repeat = b.integer("-bench_repeat", "run every row this many times and keep the fastest time", 1, 1, 100);
  o.plan.train_steps =
      b.integer("-bench_scale_train_steps", "outer steps (-outer_max_it) of the training row", 3, 1, 1000);
  o.plan.warm_shift = b.real("-bench_scale_warm_shift",
                             "the warm solve's theta: every entry of the initial theta plus this", 0.05, -1.0, 1.0);
  read_rows(b, "-bench_scale_rows", "rows to run (comma list of cold_lower, warm_lower, hypergradient, train)", o.rows);
  read_rows(b, "-bench_scale_old_rows",
            "of those, the rows also run with the old configuration (same names; 'none' for none)", o.old_rows);
  o.loss_rtol = b.real("-bench_scale_loss_rtol", "largest relative difference of the upper loss, new against old",
                       o.loss_rtol, 0.0, 1.0);
  o.grad_rtol =
      b.real("-bench_scale_grad_rtol", "largest relative difference |g_new - g_old| / |g_old| of the hypergradient",
             o.grad_rtol, 0.0, 1.0);
  return o;
}

double load_average() {
  std::ifstream f("/proc/loadavg");
  double one = -1;
  if (!(f >> one)) return -1;
  return one;
}

double relative(double a, double b) {
  return std::fabs(a - b) / std::max(std::fabs(b), 1e-300);
}

double relative(const std::vector<PetscReal>& a, const std::vector<PetscReal>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < b.size() && i < a.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    norm += b[i] * b[i];
  }
  if (a.size() != b.size()) return PETSC_INFINITY;
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-300);
}

double ratio(double a, double b) {
  return b > 0 ? a / b : NAN;
}

struct Comparison {
  bool compared = false, ok = true;
  double loss_rel = NAN, grad_rel = NAN, time_ratio = NAN, cpu_ratio = NAN, h_ratio = NAN;
  std::string text;
};

Comparison compare(int row, const scale::RowResult& fresh, const scale::RowResult& old, const ScaleOptions& o) {
  Comparison c;
  if (!fresh.error.empty() || !old.error.empty()) {
    c.ok = false;
    c.text = std::string(fresh.error.empty() ? "old" : "new") + " failed FAILED";
    return c;
  }
  if (!old.ran) {
    c.text = "old not run";
    return c;
  }
  c.compared = true;
  c.time_ratio = ratio(fresh.seconds, old.seconds);
  c.cpu_ratio = ratio(fresh.cpu_seconds, old.cpu_seconds);
  c.h_ratio = ratio(static_cast<double>(fresh.h_products), static_cast<double>(old.h_products));
  c.loss_rel = relative(fresh.loss, old.loss);
  c.ok = std::isfinite(fresh.loss) && c.loss_rel <= o.loss_rtol;
  char text[128];
  std::snprintf(text, sizeof(text), "loss %.1e", c.loss_rel);
  c.text = text;
  if (row == 2) {
    c.grad_rel = relative(fresh.gradient, old.gradient);
    c.ok = c.ok && c.grad_rel <= o.grad_rtol;
    std::snprintf(text, sizeof(text), " grad %.1e", c.grad_rel);
    c.text += text;
  }
  c.text += c.ok ? " ok" : " FAILED";
  return c;
}

std::string counts_text(const scale::RowResult& r) {
  char text[160];
  if (!r.error.empty()) {
    std::snprintf(text, sizeof(text), "%-64s", "failed (see the JSON's error)");
  } else if (!r.ran) {
    std::snprintf(text, sizeof(text), "%8s %7s %6s %7s %6s %7s %7s %7s", "-", "-", "-", "-", "-", "-", "-", "-");
  } else {
    std::snprintf(text, sizeof(text), "%8.3f %7.3f %6d %7d %6d %7d %7d %7.1f", r.seconds, r.cpu_seconds, (int)r.newton,
                  (int)r.newton_krylov, (int)r.hyper_krylov, (int)r.h_products, (int)r.pc_applies, r.rss_mb);
  }
  return text;
}

std::string split_text(const scale::RowResult& r) {
  char text[160];
  if (!r.ran || !r.error.empty()) return std::string(64, ' ');
  std::snprintf(text, sizeof(text), "lower %7.3f  Krylov %7.3f  mixed %6.3f", r.lower_seconds, r.krylov_seconds,
                r.mixed_seconds);
  return text;
}

// -help: lists the options of the benchmark and of the objects it builds (a workspace at N = 16,
// one hypergradient KSP, the outer loop) without solving anything.
void print_help(MPI_Comm comm) {
  ScopedOptions n(OptionList{{"-problem_n", "16"}});
  auto ws = build_workspace(comm);
  ws->estimator->sample_ksp(*ws->bilevel, ws->bilevel->samples().front());
  (void)read_outer_options(comm);
}

}  // namespace

int bench_scale(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  default_option("-problem", "tomo");
  default_option("-reg_type", "foe");
  default_option("-data_samples", "1");
  default_option("-outer_progress", "false");
  default_option("-outer_adaptive_tol", "false");
  ScaleOptions o = read_scale_options(comm);
  PetscBool help = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasHelp(nullptr, &help));
  if (help) {
    print_help(comm);
    return 0;
  }
  o.plan.outer = read_outer_options(comm);
  int ranks = 1;
  MPI_Comm_size(comm, &ranks);
  const double load_start = load_average();

  nlohmann::json sizes = nlohmann::json::array();
  std::vector<std::string> failures;
  PetscInt newton_total = 0, krylov_total = 0;
  for (PetscInt n : o.sizes) {
    ScopedOptions size({{"-problem_n", std::to_string(n)}});
    std::vector<scale::RowResult> results[2];  // new, old
    nlohmann::json header;
    for (int config = 0; config < 2; ++config) {
      ScopedOptions old(config == 1 ? kOldOptions : OptionList{});
      auto ws = build_workspace(comm);
      scale::RowPlan plan = o.plan;
      plan.tag = "N = " + std::to_string(n) + (config == 0 ? ", new" : ", old");
      bool any = false;
      for (int row = 0; row < scale::kRows; ++row) {
        plan.run[row] = o.rows[row] && (config == 0 || o.old_rows[row]);
        any = any || plan.run[row];
      }
      if (config == 0)
        header = {{"n", n},
                  {"problem", ws->model.name},
                  {"angles", ws->model.data_rows},
                  {"rays", ws->model.data_cols},
                  {"samples", ws->bilevel->total_samples()},
                  {"regulariser", ws->reg->name()},
                  {"parameters", ws->reg->num_params()},
                  {"theta", ws->initial_theta}};
      results[config] = any ? scale::measure_rows(*ws, plan) : std::vector<scale::RowResult>(scale::kRows);
    }

    BILEARN_CHECK(PetscPrintf(comm,
                              "\nN = %d: %s, %d sample(s), %s with %d parameters (theta0 %g), %d rank(s); "
                              "seconds: fastest of %d, slowest rank; load average %.2f at the start\n",
                              (int)n, header["problem"].get<std::string>().c_str(), header["samples"].get<int>(),
                              header["regulariser"].get<std::string>().c_str(), header["parameters"].get<int>(),
                              (double)header["theta"][0].get<double>(), ranks, (int)o.plan.repeat, load_start));
    BILEARN_CHECK(
        PetscPrintf(comm, "%-13s | %-64s | %-64s | %-20s |\n", "", "new (defaults)", "old (kOldOptions)", "new/old"));
    BILEARN_CHECK(PetscPrintf(
        comm, "%-13s | %8s %7s %6s %7s %6s %7s %7s %7s | %8s %7s %6s %7s %6s %7s %7s %7s | %6s %6s %6s | %s\n", "row",
        "seconds", "cpu s", "Newton", "inner", "hyperK", "H-prod", "PC", "RSS MB", "seconds", "cpu s", "Newton",
        "inner", "hyperK", "H-prod", "PC", "RSS MB", "time", "cpu", "H-prod", "agreement"));
    nlohmann::json rows = nlohmann::json::array();
    for (int row = 0; row < scale::kRows; ++row) {
      const scale::RowResult& fresh = results[0][static_cast<size_t>(row)];
      const scale::RowResult& old = results[1][static_cast<size_t>(row)];
      const Comparison c = compare(row, fresh, old, o);
      std::string label = scale::row_label(row);
      if (row == 3) label += " (" + std::to_string(o.plan.train_steps) + ")";
      char ratios[64];
      if (c.compared)
        std::snprintf(ratios, sizeof(ratios), "%6.3f %6.3f %6.3f", c.time_ratio, c.cpu_ratio, c.h_ratio);
      else
        std::snprintf(ratios, sizeof(ratios), "%6s %6s %6s", "-", "-", "-");
      BILEARN_CHECK(PetscPrintf(comm, "%-13s | %s | %s | %s | %s\n", label.c_str(), counts_text(fresh).c_str(),
                                counts_text(old).c_str(), ratios, c.text.c_str()));
      if (row >= 2)
        BILEARN_CHECK(PetscPrintf(comm, "%-13s | %-64s | %-64s |\n", "  split (s)", split_text(fresh).c_str(),
                                  split_text(old).c_str()));
      if (!c.ok) failures.push_back("N = " + std::to_string(n) + " " + scale::row_name(row));
      newton_total += fresh.newton + old.newton;
      krylov_total += fresh.newton_krylov + fresh.hyper_krylov + old.newton_krylov + old.hyper_krylov;
      nlohmann::json j = {{"row", scale::row_name(row)},
                          {"new", fresh.to_json()},
                          {"old", old.ran ? old.to_json() : nlohmann::json(nullptr)},
                          {"agree", c.ok},
                          {"compared", c.compared}};
      if (c.compared) {
        j["time_ratio"] = c.time_ratio;
        j["cpu_time_ratio"] = c.cpu_ratio;
        j["h_products_ratio"] = c.h_ratio;
        j["upper_loss_rel_diff"] = c.loss_rel;
        if (row == 2) j["hypergradient_rel_diff"] = c.grad_rel;
      }
      rows.push_back(j);
    }
    BILEARN_CHECK(PetscPrintf(comm,
                              "(seconds: wall; cpu s: CPU seconds, max over ranks; Newton: lower-level Newton steps, "
                              "continuation included; inner: their Krylov "
                              "iterations; hyperK: hypergradient Krylov iterations; H-prod: products with H; PC: PC "
                              "circulant applies; RSS: peak per rank during the row, max over ranks; time, cpu and "
                              "H-prod: new/old)\n"));
    header["rows"] = rows;
    sizes.push_back(header);
  }
  const double load_end = load_average();
  BILEARN_CHECK(PetscPrintf(comm, "load average %.2f at the start, %.2f at the end\n", load_start, load_end));

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "bench scale", start);
    j["krylov_iterations_total"] = krylov_total;
    j["lower_iterations_total"] = newton_total;
    j["repeat"] = o.plan.repeat;
    j["train_steps"] = o.plan.train_steps;
    j["warm_shift"] = o.plan.warm_shift;
    j["loss_rtol"] = o.loss_rtol;
    j["grad_rtol"] = o.grad_rtol;
    nlohmann::json old = nlohmann::json::object();
    for (const auto& [name, value] : kOldOptions) old[name] = value;
    j["old_options"] = old;
    j["load_average"] = {load_start, load_end};
    j["sizes"] = sizes;
    j["failed_rows"] = failures;
    write_json(comm, cl.json, j);
  }
  if (!failures.empty()) {
    std::string list;
    for (const auto& f : failures) list += (list.empty() ? "" : ", ") + f;
    throw NumericalError("bench scale: FAILED rows (a solve failed, or the new and old configurations disagree): " +
                         list);
  }
  return 0;
}

}  // namespace bilearn
