// `bilearn bench hypergrad [--json F]`: every hypergradient estimator side by side against
// `implicit` solved tightly (docs/algorithms.md §3, §6). Defaults: tomography, foe (dct3 filters),
// N = 64, S = 2, unrolled up to 500 steps (any -problem/-reg_*/-data_*/-hyper_* option overrides
// them).
// With -bench_hypergrad_train_steps K > 0, first the training comparison (bench_hypergrad_train.cpp):
// the train command's outer loop (-outer_* options) for K steps with each method of
// -bench_hypergrad_train_methods from the same θ0, judged by L and PSNR at the final θ with the
// configured lower solve, costed in products with A and Aᵀ. Then the accuracy table at each θ
// of -bench_theta_shifts (added to every entry of the initial θ; default -0.5,0.5) and at the
// iterates θ_k of the implicit training run listed in -bench_hypergrad_train_points:
//   1. reconstruct tightly (the lower solve's own tolerance) and compute the reference: implicit
//      with -hyper_ksp_rtol -bench_ref_rtol (default 1e-10);
//   2. for every method (-bench_methods, default implicit, onestep, onestep-gradient, retune-1,
//      retune-10, retune-50, unrolled): restore x̂ (warm: the TAO-based estimators' reconstruct
//      then costs one gradient) and a zero adjoint (cold Krylov start), create the estimator and
//      evaluate -bench_repeats times (default 2; the first call at a θ includes the Lipschitz
//      estimate of the gradient-map estimators, later ones reuse it);
//   3. print relative error ‖g − g_ref‖/‖g_ref‖ and cosine against the reference, the cost of the
//      first call (H-equivalents = products with A and Aᵀ / 2, Hessian products, J products,
//      Krylov iterations, gradient steps) and of a repeated one (Hessian products), wall time
//      (first and fastest call, slowest rank) and the gradient map's stored iterates (MiB per
//      rank; the Krylov estimators hold a CG's 4–5 vectors instead). unrolled runs its own
//      gradient map from 0: its time includes its lower level, the others' does not (x̂ is given).
#include "bench_hypergrad.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/driver/workspace.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/outer/outer_options.hpp"

namespace bilearn {
namespace hypergrad_bench {

const std::vector<Method>& all_methods() {
  static const std::vector<Method> methods = {
      {"implicit", "implicit", {}},
      {"onestep", "onestep", {{"-hyper_onestep_map", "newton"}}},
      {"onestep-gradient", "onestep", {{"-hyper_onestep_map", "gradient"}}},
      {"retune-1", "retune", {{"-hyper_retune_k", "1"}}},
      {"retune-10", "retune", {{"-hyper_retune_k", "10"}}},
      {"retune-50", "retune", {{"-hyper_retune_k", "50"}}},
      {"unrolled", "unrolled", {}},
  };
  return methods;
}

std::vector<Method> select_methods(const std::string& list) {
  std::vector<Method> out;
  for (const Method& m : all_methods())
    if (list.empty() || ("," + list + ",").find("," + m.label + ",") != std::string::npos) out.push_back(m);
  return out;
}

std::unique_ptr<HypergradientEstimator> create_method(MPI_Comm comm, const Method& m) {
  for (const auto& [name, value] : m.options) BILEARN_CHECK(PetscOptionsSetValue(nullptr, name.c_str(), value.c_str()));
  std::unique_ptr<HypergradientEstimator> e = estimator_registry().create(m.estimator);
  e->set_from_options(comm, "hyper_");
  e->set_up();
  for (const auto& [name, value] : m.options) BILEARN_CHECK(PetscOptionsClearValue(nullptr, name.c_str()));
  return e;
}

}  // namespace hypergrad_bench

namespace {

using namespace hypergrad_bench;

void default_option(const char* name, const char* value) {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &set));
  if (!set) BILEARN_CHECK(PetscOptionsSetValue(nullptr, name, value));
}

// A θ of the accuracy table: initial θ + shift, or an iterate of the implicit training run.
struct Point {
  std::string label;              // "initial +0.5", "implicit iterate 3"
  double shift = 0;               // shift points
  PetscInt train_iteration = -1;  // train points (-1: a shift point)
  std::vector<PetscReal> theta;
};

struct Row {
  std::string method, point;
  double theta_shift = 0;
  PetscInt train_iteration = -1;
  double error = 0, cosine = 0, norm_ratio = 0;  // norm_ratio = ‖g‖/‖g_ref‖
  PetscInt operator_applications = 0, h_products = 0, h_products_repeat = 0, j_products = 0, krylov_its = 0,
           gradient_steps = 0;
  double seconds_first = 0, seconds_best = 0, stored_mb = 0;
};

double dot(const std::vector<PetscReal>& a, const std::vector<PetscReal>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// The known method labels, for error messages.
std::string method_labels() {
  std::string out;
  for (const Method& m : all_methods()) out += (out.empty() ? "" : ", ") + m.label;
  return out;
}

void check_method_list(const std::string& list, const char* option) {
  std::string rest = list;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string name = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    bool known = false;
    for (const Method& m : all_methods()) known = known || m.label == name;
    require(known, std::string(option) + ": unknown method '" + name + "' (choose from " + method_labels() + ")");
  }
}

}  // namespace

int bench_hypergrad(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  default_option("-problem", "tomo");
  default_option("-problem_n", "64");
  default_option("-data_samples", "2");
  default_option("-reg_type", "foe");
  default_option("-reg_foe_filters", "dct3");
  default_option("-hyper_unrolled_max_it", "500");  // the reference costs 3 products a step
  std::vector<PetscReal> shifts, train_points;
  PetscReal ref_rtol = 1e-10;
  PetscInt repeats = 2, train_steps = 0;
  std::string methods, train_methods;
  {
    OptionsBlock b(comm, "", "Hypergradient estimators side by side (bilearn bench hypergrad)");
    shifts = b.reals("-bench_theta_shifts", "theta = initial theta + shift (every entry), one table block each",
                     {-0.5, 0.5}, 16);
    ref_rtol = b.real("-bench_ref_rtol", "relative residual of the reference implicit solve", ref_rtol, 1e-15, 1e-4);
    repeats = b.integer("-bench_repeats", "evaluations per method and theta (fastest time reported)", repeats, 1, 20);
    methods = b.string("-bench_methods", "comma-separated methods (default: all)", "");
    train_steps = b.integer("-bench_hypergrad_train_steps",
                            "outer steps of the training comparison (-outer_* optimiser, from the initial theta) "
                            "with every method (0: no training comparison)",
                            train_steps, 0, 100000);
    train_methods =
        b.string("-bench_hypergrad_train_methods",
                 "comma-separated methods of the training comparison (default: those of -bench_methods)", methods);
    train_points = b.reals("-bench_hypergrad_train_points",
                           "also evaluate the accuracy table at these iterates theta_k of the implicit training run "
                           "(k = 1 .. -bench_hypergrad_train_steps)",
                           {}, 64);
  }
  const OuterOptions outer_read = read_outer_options(comm);
  require(!shifts.empty(), "-bench_theta_shifts needs at least one shift");
  check_method_list(methods, "-bench_methods");
  check_method_list(train_methods, "-bench_hypergrad_train_methods");
  for (const auto& name : {"-hyper_gradient_step"}) {
    PetscBool set = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &set));
    require(!set, std::string("bench hypergrad chooses the gradient steps itself: drop ") + name);
  }
  {
    PetscBool set = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, "-outer_max_it", &set));
    require(!set, "bench hypergrad sets the outer steps from -bench_hypergrad_train_steps: drop -outer_max_it");
  }
  std::vector<PetscInt> train_iterations;
  for (PetscReal k : train_points) {
    require(k == std::floor(k) && k >= 1 && k <= static_cast<PetscReal>(train_steps),
            "-bench_hypergrad_train_points: each entry must be an iteration 1 .. -bench_hypergrad_train_steps (" +
                std::to_string(train_steps) + ")");
    train_iterations.push_back(static_cast<PetscInt>(k));
  }
  bool implicit_trains = false;
  for (const Method& m : select_methods(train_methods)) implicit_trains = implicit_trains || m.label == "implicit";
  require(train_iterations.empty() || implicit_trains,
          "-bench_hypergrad_train_points needs implicit among -bench_hypergrad_train_methods (its run gives the "
          "iterates)");
  auto ws = build_workspace(comm);
  if (help_requested()) return 0;  // the options are printed; nothing is measured
  BilevelProblem& problem = *ws->bilevel;
  std::vector<SampleState>& samples = problem.samples();
  std::vector<OwnedVec> x_hat(samples.size());
  for (size_t k = 0; k < samples.size(); ++k) BILEARN_CHECK(VecDuplicate(samples[k].x_hat, x_hat[k].out()));
  auto reset_state = [&] {
    for (size_t k = 0; k < samples.size(); ++k) {
      BILEARN_CHECK(VecCopy(x_hat[k], samples[k].x_hat));
      BILEARN_CHECK(VecSet(samples[k].adjoint, 0.0));
    }
  };
  // Products with A and Aᵀ so far, summed over the groups (the counters agree on a group's ranks).
  auto operator_applications = [&] {
    std::vector<PetscReal> count{static_cast<PetscReal>(problem.operator_applications())};
    problem.sum_over_groups(count);
    return static_cast<PetscInt>(std::llround(count[0]));
  };

  BILEARN_CHECK(PetscPrintf(
      comm, "bench hypergrad: %s, N = %d, %d samples, %d ranks, reference implicit rtol %g\n", ws->model.name.c_str(),
      (int)ws->grid->n(), (int)problem.total_samples(),
      (int)[&] {
        int size;
        MPI_Comm_size(comm, &size);
        return size;
      }(),
      (double)ref_rtol));

  TrainComparison training;
  if (train_steps > 0) {
    // Every run starts from the reconstructions at θ0, as `train` does.
    EvaluationStats unused;
    const PetscReal loss = problem.reconstruct(ws->initial_theta, unused);
    require(std::isfinite(loss), "the lower level cannot be solved at the initial theta (-reg_theta)");
    for (size_t k = 0; k < samples.size(); ++k) BILEARN_CHECK(VecCopy(samples[k].x_hat, x_hat[k]));
    OuterOptions outer = outer_read;
    outer.max_it = train_steps;
    outer.progress = false;  // one line per method instead
    training = compare_training(*ws, select_methods(train_methods), outer, x_hat);
  }

  std::vector<Point> points;
  for (PetscReal shift : shifts) {
    Point p;
    char label[48];
    std::snprintf(label, sizeof(label), "initial %+g", (double)shift);
    p.label = label;
    p.shift = shift;
    p.theta = ws->initial_theta;
    for (auto& t : p.theta) t += shift;
    points.push_back(p);
  }
  for (PetscInt k : train_iterations) {
    if (k > static_cast<PetscInt>(training.implicit_path.size())) {
      BILEARN_CHECK(
          PetscPrintf(comm, "\n(the implicit training run stopped before iterate %d: no block for it)\n", (int)k));
      continue;
    }
    Point p;
    p.label = "implicit iterate " + std::to_string(k);
    p.train_iteration = k;
    p.theta = training.implicit_path[static_cast<size_t>(k - 1)];
    points.push_back(p);
  }

  std::vector<Row> rows;
  nlohmann::json point_summaries = nlohmann::json::array();  // θ, L and |∇L| of every block
  for (const Point& point : points) {
    const std::vector<PetscReal>& theta = point.theta;
    EvaluationStats lower;
    const PetscReal loss = problem.reconstruct(theta, lower);
    for (size_t k = 0; k < samples.size(); ++k) BILEARN_CHECK(VecCopy(samples[k].x_hat, x_hat[k]));
    std::vector<PetscReal> reference;
    {
      reset_state();
      auto ref = create_implicit_estimator();
      ref->set_krylov_rtol(ref_rtol);
      reference = ref->evaluate(problem, theta, true).gradient;
    }
    const double ref_norm = std::sqrt(dot(reference, reference));
    point_summaries.push_back({{"theta_point", point.label},
                               {"theta", theta},
                               {"upper_loss", loss},
                               {"gradient_norm", ref_norm},
                               {"lower_iterations", lower.lower_iterations}});
    BILEARN_CHECK(PetscPrintf(comm,
                              "\ntheta = %s: upper loss %.6e, |grad L| %.4e (lower level: %d Newton its)\n"
                              "  %-17s %10s %9s %9s %9s %8s %8s %7s %7s %8s %10s %10s %9s\n",
                              point.label.c_str(), (double)loss, ref_norm, (int)lower.lower_iterations, "method",
                              "rel.error", "cosine", "|g|/|ref|", "H-equiv", "H prod", "H rep", "J prod", "Krylov",
                              "steps", "first s", "best s", "MiB/rank"));
    for (const Method& m : select_methods(methods)) {
      Row row;
      row.method = m.label;
      row.point = point.label;
      row.theta_shift = point.shift;
      row.train_iteration = point.train_iteration;
      auto estimator = create_method(comm, m);
      std::vector<PetscReal> gradient;
      for (PetscInt r = 0; r < repeats; ++r) {
        reset_state();
        const PetscInt applications_before = operator_applications();
        MPI_Barrier(comm);
        const double t0 = MPI_Wtime();
        UpperEvaluation e = estimator->evaluate(problem, theta, true);
        const double seconds = max_over_ranks(comm, MPI_Wtime() - t0);
        const EvaluationStats stats = reduce_stats(*ws, e.stats);
        if (r == 0) {
          gradient = e.gradient;
          row.operator_applications = operator_applications() - applications_before;
          row.seconds_first = row.seconds_best = seconds;
          row.h_products = row.h_products_repeat = stats.hessian_products;
          row.j_products = stats.mixed_products;
          row.krylov_its = stats.krylov_iterations;
          row.gradient_steps = stats.gradient_steps;
          row.stored_mb = stats.stored_mb;
        } else {
          row.seconds_best = std::min(row.seconds_best, seconds);
          row.h_products_repeat = stats.hessian_products;
        }
      }
      std::vector<PetscReal> diff = gradient;
      for (size_t i = 0; i < diff.size(); ++i) diff[i] -= reference[i];
      row.error = std::sqrt(dot(diff, diff)) / ref_norm;
      row.cosine = dot(gradient, reference) / (std::sqrt(dot(gradient, gradient)) * ref_norm);
      row.norm_ratio = std::sqrt(dot(gradient, gradient)) / ref_norm;
      BILEARN_CHECK(PetscPrintf(comm, "  %-17s %10.3e %9.6f %9.2e %9.1f %8d %8d %7d %7d %8d %10.4f %10.4f %9.2f\n",
                                row.method.c_str(), row.error, row.cosine, row.norm_ratio,
                                0.5 * (double)row.operator_applications, (int)row.h_products,
                                (int)row.h_products_repeat, (int)row.j_products, (int)row.krylov_its,
                                (int)row.gradient_steps, row.seconds_first, row.seconds_best, row.stored_mb));
      rows.push_back(row);
    }
    reset_state();
  }
  BILEARN_CHECK(PetscPrintf(comm,
                            "\nH-equiv: products with A and A^T / 2 of the first evaluation at theta; H prod: Hessian "
                            "products of it (with the gradient map's Lipschitz estimate), H rep: of a repeated one; "
                            "steps: gradient-map steps (unrolled: its lower level); times: slowest rank, x-hat given "
                            "except for unrolled.\n"));
  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "bench hypergrad", start);
    j["theta"] = ws->initial_theta;
    j["upper_loss"] = nullptr;
    j["krylov_iterations_total"] = nullptr;
    j["lower_iterations_total"] = nullptr;
    j["problem"] = ws->model.name;
    j["n"] = ws->grid->n();
    j["samples"] = problem.total_samples();
    j["reference_rtol"] = ref_rtol;
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
      nlohmann::json row = {{"method", r.method},
                            {"theta_point", r.point},
                            {"relative_error", r.error},
                            {"cosine", r.cosine},
                            {"norm_ratio", r.norm_ratio},
                            {"operator_applications", r.operator_applications},
                            {"h_equivalents", 0.5 * static_cast<double>(r.operator_applications)},
                            {"hessian_products", r.h_products},
                            {"hessian_products_repeat", r.h_products_repeat},
                            {"mixed_products", r.j_products},
                            {"krylov_iterations", r.krylov_its},
                            {"gradient_steps", r.gradient_steps},
                            {"seconds_first", r.seconds_first},
                            {"seconds_best", r.seconds_best},
                            {"stored_iterates_mb_max_rank", r.stored_mb}};
      if (r.train_iteration > 0)
        row["train_iteration"] = r.train_iteration;
      else
        row["theta_shift"] = r.theta_shift;
      out.push_back(row);
    }
    j["rows"] = out;
    j["points"] = point_summaries;
    if (train_steps > 0) j["training"] = training.to_json();
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
