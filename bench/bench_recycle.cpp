// `bilearn bench recycle [--json F]`: the hypergradient systems H_{s,t} w = x̂_{s,t} − x†_s of
// a real training run, recorded in memory (θ_t, x̂_{s,t}, right-hand side) and replayed with
// every solver: MINRES cold / warm, CG warm, MINRES + KSPGUESS fischer, rminres with every
// selector (with and without the split C = F·U + R·U, with NSC), rcg, and with PC circulant
// (docs/algorithms.md §4.5) PETSc's MINRES/CG and preconditioned rminres/rcg. Each sample keeps its
// own KSP and warm start, as in training. The hypergradient error is ‖J w − J w_ref‖/‖J w_ref‖
// against a tightly solved reference. Operator cost is counted in products with H, R (varying
// part of the split), J, F (the PC's set-up) and PC applications, and as H-equivalents with the
// measured cost ratios.
// Defaults (overridden by explicit options): -problem tomo -problem_n 128 -data_samples 4
// -reg_type foe -reg_foe_filters dct5 -outer_max_it 20. Bench options: -bench_rtol (the
// training's -hyper_ksp_rtol, 1e-6), -bench_ref_rtol (1e-11), -bench_k (20), -bench_methods
// (comma list of names; all by default), -bench_save FILE (write the recorded sequence, PETSc
// binary), -bench_load FILE (replay a saved sequence instead of training; give the same problem
// options: N, samples and the parameter count are checked), -bench_repeat r (r round-robin
// replays, fastest time kept), -bench_oracle (oracle-stopped rows), -bench_exact n (deflation
// bound with exact eigenvectors on n systems).
#include <petsc/private/kspimpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/driver/bilevel_upper_problem.hpp"
#include "bilearn/driver/workspace.hpp"
#include "bilearn/hypergrad/observed_estimator.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/io/directory.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/krylov/create_ksp.hpp"
#include "bilearn/krylov/deflation_bound.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/lower/hessian_structure.hpp"
#include "bilearn/outer/trainer.hpp"

namespace bilearn {
namespace {

using Options = std::vector<std::pair<std::string, std::string>>;

struct RecordedSystem {
  size_t sample = 0;  // position in BilevelProblem::samples()
  std::vector<PetscReal> theta;
  OwnedVec x_hat, rhs;
  std::vector<PetscReal> jw_ref;
  PetscReal jw_ref_norm = 0;
};

struct Method {
  std::string name;
  const char* type;
  Options opts;
  bool warm = true;
  bool nsc = false;
};

struct MethodResult {
  std::string name;
  PetscInt iterations = 0, h_products = 0, r_products = 0, j_products = 0, restarts = 0;
  PetscInt f_products = 0, pc_applies = 0;  // products with F = AᵀA + εI (PC set-up), PC applications
  PetscInt vectors = 0;                     // vectors held per KSP (work + recycling storage)
  double seconds = 0, err_max = 0, err_mean = 0, err_abs_median = 0;
  PetscInt failed = 0;  // systems whose solve did not converge or whose error is not finite
  std::vector<PetscInt> its;
  std::vector<double> err;  // relative hypergradient error per system
};

void default_option(const char* name, const char* value) {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &set));
  if (set) return;
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, name, value));
  // Marked as read: a default the user did not give is never reported unused (-bench_load
  // reads no -outer_max_it).
  BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &set));
}

double norm2(const std::vector<PetscReal>& v) {
  double s = 0;
  for (PetscReal x : v) s += x * x;
  return std::sqrt(s);
}

OwnedVec copy_of(Vec v) {
  OwnedVec c;
  BILEARN_CHECK(VecDuplicate(v, c.out()));
  BILEARN_CHECK(VecCopy(v, c));
  return c;
}

// The linearisation point (x̂, θ) of the system (H and J then belong to it).
void load_system(Workspace& ws, const RecordedSystem& sys) {
  ws.bilevel->objective().set_point(sys.x_hat, sys.theta);
}

OwnedKSP make_solver(const ImageGrid& grid, LowerObjective& objective, const Method& m, PetscReal rtol) {
  const std::string prefix = "bench_" + m.name + "_";
  OwnedKSP ksp = krylov::create_ksp(grid.comm(), m.type, prefix, rtol, 20000);
  for (const auto& [name, value] : m.opts)
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + name).c_str(), value.c_str()));
  BILEARN_CHECK(KSPSetOperators(ksp, objective.hessian(), objective.hessian()));
  BILEARN_CHECK(KSPSetFromOptions(ksp));
  share_hessian_structure(ksp, objective);
  return ksp;
}

// Tight reference J w_ref for every system (MINRES from zero).
void solve_references(Workspace& ws, std::vector<RecordedSystem>& systems, PetscReal ref_rtol) {
  LowerObjective& objective = ws.bilevel->objective();
  OwnedKSP ksp = make_solver(*ws.grid, objective, {"reference", KSPMINRES, {}}, ref_rtol);
  OwnedVec w = ws.grid->create_vec();
  for (auto& sys : systems) {
    load_system(ws, sys);
    BILEARN_CHECK(VecSet(w, 0.0));
    BILEARN_CHECK(KSPSetOperators(ksp, objective.hessian(), objective.hessian()));
    BILEARN_CHECK(KSPSolve(ksp, sys.rhs, w));
    sys.jw_ref.assign(static_cast<size_t>(ws.reg->num_params()), 0.0);
    objective.mixed_mult(w, sys.jw_ref);
    sys.jw_ref_norm = norm2(sys.jw_ref);
  }
}

// Oracle stopping (-bench_oracle): the solve stops at the first iteration whose iterate has a
// hypergradient error no larger than warm MINRES's on the same system. No practical rule can stop
// earlier at that accuracy, so these rows bound what any stopping criterion (NSC included) can save.
struct OracleStop {
  LowerObjective* objective = nullptr;
  const RecordedSystem* system = nullptr;
  PetscReal target = 0;  // relative hypergradient error to reach
  Vec iterate = nullptr;
  std::vector<PetscReal> jw;
};

PetscErrorCode oracle_converged(KSP ksp, PetscInt it, PetscReal rnorm, KSPConvergedReason* reason, void* ctx) {
  return guarded(PETSC_COMM_WORLD, __func__, [&] {
    auto& o = *static_cast<OracleStop*>(ctx);
    *reason = KSP_CONVERGED_ITERATING;
    if (!(std::isfinite(rnorm))) {
      *reason = KSP_DIVERGED_NANORINF;
      return;
    }
    Vec x = nullptr;
    BILEARN_CHECK(KSPBuildSolution(ksp, o.iterate, &x));
    o.objective->mixed_mult(x, o.jw);  // the uncounted form: the oracle is not part of the cost
    for (size_t i = 0; i < o.jw.size(); ++i) o.jw[i] -= o.system->jw_ref[i];
    const double e = norm2(o.jw) / std::max<PetscReal>(o.system->jw_ref_norm, 1e-300);
    if (e <= o.target) *reason = KSP_CONVERGED_ATOL;
    (void)it;
  });
}

MethodResult replay(Workspace& ws, const std::vector<RecordedSystem>& systems, const Method& m, PetscReal rtol,
                    const std::vector<double>* oracle_targets = nullptr) {
  LowerObjective& objective = ws.bilevel->objective();
  OracleStop oracle;
  OwnedVec oracle_iterate;
  if (oracle_targets) {
    oracle.objective = &objective;
    oracle_iterate = ws.grid->create_vec();
    oracle.iterate = oracle_iterate;
    oracle.jw.assign(static_cast<size_t>(ws.reg->num_params()), 0.0);
  }
  const size_t samples = ws.bilevel->samples().size();
  std::vector<OwnedKSP> ksps(samples);
  std::vector<OwnedVec> x(samples);
  MethodResult r;
  r.name = m.name;
  std::vector<double> rel, abs_err;
  std::vector<PetscReal> jw(static_cast<size_t>(ws.reg->num_params()));
  for (const auto& sys : systems) {
    load_system(ws, sys);
    OwnedKSP& ksp = ksps[sys.sample];
    if (!ksp) {
      ksp = make_solver(*ws.grid, objective, m, rtol);
      if (oracle_targets) BILEARN_CHECK(KSPSetConvergenceTest(ksp, oracle_converged, &oracle, nullptr));
      x[sys.sample] = ws.grid->create_vec();
      BILEARN_CHECK(VecSet(x[sys.sample], 0.0));
    }
    Vec xs = x[sys.sample];
    if (!m.warm) BILEARN_CHECK(VecSet(xs, 0.0));
    BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp, m.warm ? PETSC_TRUE : PETSC_FALSE));
    BILEARN_CHECK(KSPSetOperators(ksp, objective.hessian(), objective.hessian()));
    const PetscInt h0 = objective.hessian_products(), r0 = objective.reg_hessian_products(),
                   j0 = objective.mixed_products(), f0 = objective.data_hessian_products();
    const PetscInt pc0 = circulant_applies(ksp);
    if (oracle_targets) {
      oracle.system = &sys;
      oracle.target = (*oracle_targets)[static_cast<size_t>(&sys - systems.data())];
    }
    MPI_Barrier(ws.grid->comm());
    const double t0 = MPI_Wtime();
    BILEARN_CHECK(KSPSolve(ksp, sys.rhs, xs));
    r.seconds += MPI_Wtime() - t0;
    PetscInt its = 0;
    BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
    KSPConvergedReason reason;
    BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
    r.its.push_back(its);
    r.iterations += its;
    r.h_products += objective.hessian_products() - h0;
    r.r_products += objective.reg_hessian_products() - r0;
    r.j_products += objective.mixed_products() - j0;
    r.f_products += objective.data_hessian_products() - f0;
    r.pc_applies += circulant_applies(ksp) - pc0;
    PetscInt held = ksp.get()->nwork;
    if (is_recycling_ksp(ksp)) {
      KSPRecycleInfo info{};
      BILEARN_CHECK(KSPRecycleGetInfo(ksp, &info));
      held += info.stored_vectors;
      r.restarts += info.restarted ? 1 : 0;
    }
    if (ksp.get()->guess) held += 2 * 10;  // fischer model 1, size 10: X and AX
    r.vectors = std::max(r.vectors, held);
    objective.mixed_mult(xs, jw);
    for (size_t i = 0; i < jw.size(); ++i) jw[i] -= sys.jw_ref[i];
    const double e = norm2(jw);
    abs_err.push_back(e);
    rel.push_back(sys.jw_ref_norm > 0 ? e / sys.jw_ref_norm : e);
    if (reason < 0 || !std::isfinite(e)) {  // the same verdict on every rank (reductions)
      ++r.failed;
      BILEARN_CHECK(PetscPrintf(ws.grid->comm(), "  %s: system %d failed (%s, %d iterations, error %g)\n",
                                m.name.c_str(), (int)(&sys - systems.data()), KSPConvergedReasons[reason], (int)its,
                                rel.back()));
    }
  }
  r.err = rel;
  r.seconds = max_over_ranks(PETSC_COMM_WORLD, r.seconds);
  // A NaN error stays NaN in the maximum (std::max(x, NaN) would drop it) and sorts last.
  for (double e : rel) {
    r.err_max = std::isnan(e) || std::isnan(r.err_max) ? std::nan("") : std::max(r.err_max, e);
    r.err_mean += e / static_cast<double>(rel.size());
  }
  for (double& e : abs_err)
    if (std::isnan(e)) e = std::numeric_limits<double>::infinity();
  std::sort(abs_err.begin(), abs_err.end());
  r.err_abs_median = abs_err.empty() ? 0 : abs_err[abs_err.size() / 2];
  return r;
}

// Seconds per product with H, R and J at the first recorded system (for H-equivalents).
struct ProductCost {
  double h = 0, r = 0, j = 0, f = 0, pc = 0;  // pc: one application of PC circulant
};
ProductCost measure_product_cost(Workspace& ws, const RecordedSystem& sys) {
  LowerObjective& objective = ws.bilevel->objective();
  load_system(ws, sys);
  OwnedVec y = ws.grid->create_vec();
  std::vector<PetscReal> jv(static_cast<size_t>(ws.reg->num_params()));
  ProductCost c;
  c.h = time_repeated(ws.grid->comm(), 0.3, [&] { objective.hessian_mult(sys.rhs, y); }).seconds_per_call;
  c.r = time_repeated(ws.grid->comm(), 0.3, [&] { objective.reg_hessian_mult(sys.rhs, y); }).seconds_per_call;
  c.j = time_repeated(ws.grid->comm(), 0.3, [&] { objective.mixed_mult(sys.rhs, jv.data()); }).seconds_per_call;
  c.f = time_repeated(ws.grid->comm(), 0.3, [&] { objective.data_hessian_mult(sys.rhs, y); }).seconds_per_call;
  OwnedKSP ksp = make_solver(*ws.grid, objective, {"pc_cost", KSPCG, {{"pc_type", PCCIRCULANT}}}, 1e-6);
  BILEARN_CHECK(KSPSetUp(ksp));
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetUp(pc));
  c.pc = time_repeated(ws.grid->comm(), 0.3, [&] { BILEARN_CHECK(PCApply(pc, sys.rhs, y)); }).seconds_per_call;
  return c;
}

// An option value that keeps every digit (std::to_string prints 2.6e-08 as 0.000000).
std::string real_text(PetscReal v) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", static_cast<double>(v));
  return text;
}

std::vector<Method> all_methods(PetscInt k, PetscReal nsc_tol) {
  const std::string ks = std::to_string(k), nt = real_text(nsc_tol);
  std::vector<Method> m = {
      {"minres_cold", KSPMINRES, {}, false},
      {"minres_warm", KSPMINRES, {}},
      {"cg_warm", KSPCG, {}},
      {"minres_fischer", KSPMINRES, {{"ksp_guess_type", "fischer"}, {"ksp_guess_fischer_model", "1,10"}}},
  };
  for (const char* sel : {"ritz_both", "ritz_s", "ritz_l", "hritz_s", "hritz_l", "rgen_l", "rgen_s"})
    m.push_back({std::string("rminres_") + sel, KSPRMINRES, {{"ksp_recycle_k", ks}, {"ksp_recycle_select", sel}}});
  m.push_back({"rcg_ritz_both", KSPRCG, {{"ksp_recycle_k", ks}}});
  // Every selector and rcg once more with NSC stopping.
  const size_t plain = m.size();
  for (size_t i = 0; i < plain; ++i) {
    if (m[i].opts.empty() || m[i].opts.front().first != "ksp_recycle_k") continue;
    Method nsc = m[i];
    nsc.name += "_nsc";
    nsc.opts.push_back({"ksp_recycle_nsc", "true"});
    nsc.opts.push_back({"ksp_recycle_nsc_tol", nt});
    nsc.nsc = true;
    m.push_back(nsc);
  }
  // Variants of the default (ritz_both): without the split, a smaller space, a space rebuilt
  // only after every 2nd / 4th solve (reused unchanged in between).
  m.push_back({"rminres_ritz_both_nosplit", KSPRMINRES, {{"ksp_recycle_k", ks}, {"ksp_recycle_carry_hu", "false"}}});
  m.push_back({"rminres_k10", KSPRMINRES, {{"ksp_recycle_k", "10"}}});
  for (const char* every : {"2", "4"})
    m.push_back({std::string("rminres_ritz_both_every") + every,
                 KSPRMINRES,
                 {{"ksp_recycle_k", ks}, {"ksp_recycle_update_every", every}}});
  // PC circulant (docs/algorithms.md §4.5), every row stopped on the unpreconditioned residual: PETSc's
  // KSPs alone, and the recycling types on top of it (deflated PCG / MINRES, C from the split).
  const Options circ = {{"pc_type", PCCIRCULANT}, {"ksp_norm_type", "unpreconditioned"}};
  // PETSc 3.18's KSPMINRES stops only on the preconditioned norm: minres_circ is rminres with k = 0,
  // which performs KSPMINRES's iteration (test_recycle_precond) and tracks the true residual norm.
  Options minres_circ = circ;
  minres_circ.push_back({"ksp_recycle_k", "0"});
  m.push_back({"minres_circ", KSPRMINRES, minres_circ});
  m.push_back({"cg_circ", KSPCG, circ});
  for (const char* type : {KSPRMINRES, KSPRCG})
    for (const char* kk : {"10", "20"}) {
      Options o = circ;
      o.push_back({"ksp_recycle_k", kk});
      m.push_back({std::string(type) + "_circ_k" + kk, type, o});
    }
  return m;
}

// Sequence file: PetscInt[5] {magic, N, samples, parameters, systems}, then per system
// PetscInt sample, PetscReal θ[parameters], VecView x̂, VecView rhs (DMDA: natural order).
constexpr PetscInt kSequenceMagic = 0x42525351;  // "BRSQ"

void save_sequence(Workspace& ws, const std::vector<RecordedSystem>& systems, const std::string& path) {
  OwnedViewer viewer = open_binary_viewer(ws.grid->comm(), path, FILE_MODE_WRITE);
  PetscInt header[5] = {kSequenceMagic, ws.grid->n(), static_cast<PetscInt>(ws.bilevel->samples().size()),
                        ws.reg->num_params(), static_cast<PetscInt>(systems.size())};
  BILEARN_CHECK(PetscViewerBinaryWrite(viewer, header, 5, PETSC_INT));
  OwnedVec image = ws.grid->create_vec();
  for (const auto& sys : systems) {
    PetscInt sample = static_cast<PetscInt>(sys.sample);
    BILEARN_CHECK(PetscViewerBinaryWrite(viewer, &sample, 1, PETSC_INT));
    BILEARN_CHECK(
        PetscViewerBinaryWrite(viewer, sys.theta.data(), static_cast<PetscInt>(sys.theta.size()), PETSC_REAL));
    BILEARN_CHECK(VecView(sys.x_hat, viewer));
    BILEARN_CHECK(VecView(sys.rhs, viewer));
  }
}

std::vector<RecordedSystem> load_sequence(Workspace& ws, const std::string& path) {
  require(std::filesystem::exists(path), "-bench_load: no file '" + path + "'");
  OwnedViewer viewer = open_binary_viewer(ws.grid->comm(), path, FILE_MODE_READ);
  PetscInt header[5] = {0, 0, 0, 0, 0}, got = 0;
  BILEARN_CHECK(PetscViewerBinaryRead(viewer, header, 5, &got, PETSC_INT));
  const PetscInt p = ws.reg->num_params();
  require(got == 5 && header[0] == kSequenceMagic, "-bench_load: '" + path + "' is not a bench recycle sequence");
  require(
      header[1] == ws.grid->n() && header[2] == static_cast<PetscInt>(ws.bilevel->samples().size()) && header[3] == p,
      "-bench_load: '" + path + "' was recorded with N = " + std::to_string(header[1]) + ", " +
          std::to_string(header[2]) + " samples, " + std::to_string(header[3]) +
          " parameters; give the same -problem_n, -data_samples and regulariser options");
  std::vector<RecordedSystem> systems(static_cast<size_t>(header[4]));
  for (auto& sys : systems) {
    PetscInt sample = 0;
    BILEARN_CHECK(PetscViewerBinaryRead(viewer, &sample, 1, nullptr, PETSC_INT));
    require(sample >= 0 && sample < header[2], "-bench_load: '" + path + "' is corrupt (sample index)");
    sys.sample = static_cast<size_t>(sample);
    sys.theta.assign(static_cast<size_t>(p), 0.0);
    BILEARN_CHECK(PetscViewerBinaryRead(viewer, sys.theta.data(), p, nullptr, PETSC_REAL));
    sys.x_hat = ws.grid->create_vec();
    sys.rhs = ws.grid->create_vec();
    BILEARN_CHECK(VecLoad(sys.x_hat, viewer));
    BILEARN_CHECK(VecLoad(sys.rhs, viewer));
  }
  return systems;
}

bool selected(const std::string& list, const std::string& name) {
  if (list.empty()) return true;
  return ("," + list + ",").find("," + name + ",") != std::string::npos;
}

}  // namespace

int bench_recycle(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  default_option("-problem", "tomo");
  default_option("-problem_n", "128");
  default_option("-data_samples", "4");
  default_option("-reg_type", "foe");
  default_option("-reg_foe_filters", "dct5");
  default_option("-outer_max_it", "20");
  PetscReal rtol = 1e-6, ref_rtol = 1e-11;
  PetscInt k = 20;
  std::string methods, save, load;
  bool oracle = false;
  PetscInt exact_systems = 0, repeat = 1;
  {
    OptionsBlock b(comm, "", "Recycling benchmark on a recorded training sequence (bilearn bench recycle)");
    rtol = b.real("-bench_rtol", "relative residual tolerance of every replayed solve", rtol, 1e-14, 0.5);
    ref_rtol = b.real("-bench_ref_rtol", "tolerance of the reference solves", ref_rtol, 1e-15, 1e-4);
    k = b.integer("-bench_k", "recycle space dimension", k, 1);
    methods = b.string("-bench_methods", "comma-separated methods to run (default: all)", "");
    save = b.string("-bench_save", "write the recorded sequence to this file (PETSc binary)", "");
    load = b.string("-bench_load", "replay the sequence saved in this file instead of training", "");
    oracle = b.flag("-bench_oracle",
                    "also run every method with oracle stopping: each solve stops as soon as its hypergradient "
                    "error is no larger than warm MINRES's on that system (a bound for any stopping rule)",
                    false);
    exact_systems = b.integer("-bench_exact",
                              "on this many systems (evenly spaced), compare MINRES with rminres on a frozen space of "
                              "exact eigenvectors (k/2 smallest, k/2 largest; k and 2k): the best deflation can do",
                              0, 0);
    repeat = b.integer("-bench_repeat", "replay every method this many times, round-robin, and report the fastest time",
                       repeat, 1);
  }
  auto ws = build_workspace(comm);
  if (help_requested()) {  // the options are printed (the outer loop's too); nothing is trained or replayed
    read_outer_options(comm);
    return 0;
  }
  require(ws->groups.count == 1, "bench recycle replays on one sample group: drop -samples_groups");
  // 1. Record the sequence of a real training run (or load a saved one).
  std::vector<RecordedSystem> systems;
  PetscInt outer_steps = 0, lower_total = 0;
  std::vector<PetscReal> theta_final;
  double train_seconds = 0;
  if (!load.empty()) {
    systems = load_sequence(*ws, load);
  } else {
    const std::string dir = cl.out.empty() ? "bench_recycle_run" : cl.out;
    make_directory(comm, dir);
    std::vector<SampleState>& samples = ws->bilevel->samples();
    auto recorder = std::make_unique<ObservedEstimator>(
        std::move(ws->estimator), [&](const SampleState& s, const std::vector<PetscReal>& theta, Vec rhs) {
          RecordedSystem sys;
          sys.sample = static_cast<size_t>(&s - samples.data());
          sys.theta = theta;
          sys.x_hat = copy_of(s.x_hat);
          sys.rhs = copy_of(rhs);
          systems.push_back(std::move(sys));
        });
    ObservedEstimator* observed = recorder.get();
    ws->estimator = std::move(recorder);
    const OuterOptions options = read_outer_options(comm);
    BilevelUpperProblem problem(*ws);
    require(std::isfinite(problem.reconstruct(ws->initial_theta)),
            "the lower level cannot be solved at the initial theta (-reg_theta)");
    const double t_train = MPI_Wtime();
    const TrainResult trained = train(comm, problem, ws->initial_theta, options, dir);
    train_seconds = MPI_Wtime() - t_train;
    observed->set_observer(nullptr);
    outer_steps = trained.outer_iterations;
    lower_total = trained.lower_iterations_total;
    theta_final = trained.theta;
    if (!save.empty()) save_sequence(*ws, systems, save);
  }
  require(!systems.empty(), "the training run solved no hypergradient system (is -hyper_method implicit?)");
  BILEARN_CHECK(PetscPrintf(comm,
                            "bench recycle: %s N = %d, %d samples, %s with %d parameters; %s %d systems "
                            "(%d outer steps, %.1f s)\n",
                            ws->model.name.c_str(), (int)ws->grid->n(), (int)ws->bilevel->total_samples(),
                            ws->reg->name().c_str(), (int)ws->reg->num_params(), load.empty() ? "recorded" : "loaded",
                            (int)systems.size(), (int)outer_steps, train_seconds));

  // 2. Reference, product costs, then every method.
  solve_references(*ws, systems, ref_rtol);
  const ProductCost cost = measure_product_cost(*ws, systems.front());
  std::vector<MethodResult> results;
  std::vector<Method> ran;                       // the method behind each row
  std::vector<std::vector<double>> ran_targets;  // its oracle targets (empty: residual stopping)
  auto run_row = [&](const Method& m, const std::vector<double>& targets) {
    results.push_back(replay(*ws, systems, m, rtol, targets.empty() ? nullptr : &targets));
    ran.push_back(m);
    ran_targets.push_back(targets);
  };
  PetscReal nsc_tol = 0;
  std::vector<double> warm_errors;
  for (const Method& m : all_methods(k, 1.0)) {
    if (!selected(methods, m.name) && m.name != "minres_warm") continue;
    Method run = m;
    if (m.nsc) {
      for (auto& [name, value] : run.opts)
        if (name == "ksp_recycle_nsc_tol") value = real_text(nsc_tol);
    }
    run_row(run, {});
    // NSC stops once its estimate falls below safety·tol (-ksp_recycle_nsc_safety, 0.3): that
    // threshold is set to the median error of warm MINRES, i.e. the same accuracy.
    if (m.name == "minres_warm") {
      nsc_tol = results.back().err_abs_median / 0.3;
      warm_errors = results.back().err;
    }
    if (oracle && m.name != "minres_warm" && !m.nsc) {
      Method o = run;
      o.name += "_oracle";
      run_row(o, warm_errors);
    }
  }
  // Further rounds (-bench_repeat): every row again, in the same order, keeping the fastest
  // time, so that a machine whose speed drifts during the benchmark slows all rows alike.
  for (PetscInt round = 1; round < repeat; ++round) {
    for (size_t i = 0; i < ran.size(); ++i) {
      const MethodResult again = replay(*ws, systems, ran[i], rtol, ran_targets[i].empty() ? nullptr : &ran_targets[i]);
      if (again.iterations != results[i].iterations)
        BILEARN_CHECK(PetscPrintf(comm, "  %s: round %d took %d iterations, the first %d\n", ran[i].name.c_str(),
                                  (int)round + 1, (int)again.iterations, (int)results[i].iterations));
      results[i].seconds = std::min(results[i].seconds, again.seconds);
    }
  }

  // 3. The table, relative to warm MINRES.
  const MethodResult* warm = nullptr;
  for (const auto& r : results)
    if (r.name == "minres_warm") warm = &r;
  PetscInt nlocal = 0;
  {
    OwnedVec v = ws->grid->create_vec();
    BILEARN_CHECK(VecGetLocalSize(v, &nlocal));
  }
  auto h_equiv = [&](const MethodResult& r) {
    return r.h_products + r.r_products * cost.r / cost.h + r.j_products * cost.j / cost.h +
           r.f_products * cost.f / cost.h + r.pc_applies * cost.pc / cost.h;
  };
  const double warm_ms_it = 1e3 * warm->seconds / std::max<PetscInt>(warm->iterations, 1);
  BILEARN_CHECK(PetscPrintf(comm,
                            "%d systems, rtol %g (reference %g), k = %d; one R product = %.2f H, one J product = "
                            "%.2f H, one F product = %.2f H, one PC circulant apply = %.2f H (measured); NSC "
                            "tolerance %.3g; seconds: fastest of %d round(s)\n",
                            (int)systems.size(), (double)rtol, (double)ref_rtol, (int)k, cost.r / cost.h,
                            cost.j / cost.h, cost.f / cost.h, cost.pc / cost.h, (double)nsc_tol, (int)repeat));
  BILEARN_CHECK(PetscPrintf(comm, "%-32s %7s %6s %7s %9s %6s %8s %6s %7s %6s %9s %9s %7s %4s %4s\n", "method", "its",
                            "x", "PC", "H-equiv", "x", "seconds", "x", "ms/it", "x", "err max", "err mean", "MB/rank",
                            "rst", "fail"));
  for (const auto& r : results) {
    const double ms_it = 1e3 * r.seconds / std::max<PetscInt>(r.iterations, 1);
    BILEARN_CHECK(PetscPrintf(
        comm, "%-32s %7d %6.3f %7d %9.0f %6.3f %8.2f %6.3f %7.3f %6.3f %9.2e %9.2e %7.1f %4d %4d\n", r.name.c_str(),
        (int)r.iterations, (double)r.iterations / warm->iterations, (int)r.pc_applies, h_equiv(r),
        h_equiv(r) / h_equiv(*warm), r.seconds, r.seconds / warm->seconds, ms_it, ms_it / warm_ms_it, r.err_max,
        r.err_mean, r.vectors * nlocal * 8.0 / 1048576.0, (int)r.restarts, (int)r.failed));
  }
  BILEARN_CHECK(PetscPrintf(comm,
                            "(x: relative to minres_warm; PC: PC circulant applications; H-equiv: products with H, "
                            "and R, J, F and PC applies weighted by their measured cost, everything the space and the "
                            "PC set-up cost included; err: |J w - J w_ref| / |J w_ref| over the "
                            "sequence; rst: solves rerun after a failed true-residual check; fail: systems whose "
                            "solve did not converge or whose error is not finite)\n"));

  // 4. The deflation bound on a few systems.
  nlohmann::json bound_rows = nlohmann::json::array();
  if (exact_systems > 0) {
    const size_t count = std::min(systems.size(), static_cast<size_t>(exact_systems));
    BILEARN_CHECK(PetscPrintf(comm,
                              "deflation bound on %d systems: MINRES from zero against rminres from zero on a frozen "
                              "space of exact eigenvectors (k/2 smallest, k/2 largest eigenvalues)\n",
                              (int)count));
    BILEARN_CHECK(PetscPrintf(comm, "%8s %4s %10s %10s %8s %11s %11s %8s\n", "system", "k", "minres its", "exact its",
                              "x", "lambda min", "lambda max", "EPS s"));
    for (size_t i = 0; i < count; ++i) {
      const size_t at = (systems.size() - 1) * (i + 1) / count;  // evenly spaced, the last one included
      load_system(*ws, systems[at]);
      for (PetscInt kk : {k, 2 * k}) {
        const krylov::DeflationBound b =
            krylov::exact_deflation_bound(ws->bilevel->objective().hessian(), systems[at].rhs, kk, rtol);
        BILEARN_CHECK(PetscPrintf(comm, "%8d %4d %10d %10d %8.3f %11.4g %11.4g %8.1f\n", (int)at, (int)b.eigenvectors,
                                  (int)b.minres_iterations, (int)b.deflated_iterations,
                                  (double)b.deflated_iterations / std::max<PetscInt>(b.minres_iterations, 1),
                                  (double)b.lambda_min, (double)b.lambda_max, b.eps_seconds));
        bound_rows.push_back({{"system", at},
                              {"k", b.eigenvectors},
                              {"minres_iterations", b.minres_iterations},
                              {"exact_deflation_iterations", b.deflated_iterations},
                              {"lambda_min", b.lambda_min},
                              {"lambda_max", b.lambda_max}});
      }
    }
  }

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "bench recycle", start);
    j["deflation_bound"] = bound_rows;
    j["theta"] = theta_final;
    j["upper_loss"] = nullptr;
    PetscInt total = 0;
    for (const auto& r : results) total += r.iterations;
    j["krylov_iterations_total"] = total;
    j["lower_iterations_total"] = lower_total;
    j["n"] = ws->grid->n();
    j["samples"] = ws->bilevel->total_samples();
    j["systems"] = systems.size();
    j["rtol"] = rtol;
    j["k"] = k;
    j["repeat"] = repeat;
    j["cost_ratio"] = {{"r_over_h", cost.r / cost.h},
                       {"j_over_h", cost.j / cost.h},
                       {"f_over_h", cost.f / cost.h},
                       {"pc_over_h", cost.pc / cost.h}};
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& r : results)
      rows.push_back({{"method", r.name},
                      {"iterations", r.iterations},
                      {"h_products", r.h_products},
                      {"r_products", r.r_products},
                      {"j_products", r.j_products},
                      {"f_products", r.f_products},
                      {"pc_applies", r.pc_applies},
                      {"h_equivalent", h_equiv(r)},
                      {"seconds", r.seconds},
                      {"hypergradient_error_max", r.err_max},
                      {"hypergradient_error_mean", r.err_mean},
                      {"bytes_per_rank", r.vectors * nlocal * 8.0},
                      {"restarts", r.restarts},
                      {"failed_systems", r.failed},
                      {"iterations_per_system", r.its}});
    j["methods"] = rows;
    write_json(comm, cl.json, j);
  }
  // A method that diverged, stopped at its iteration limit or gave a NaN is a failed benchmark
  // (after the table and the --json file, which show it).
  std::string failed;
  for (const auto& r : results)
    if (r.failed > 0 || !std::isfinite(r.err_max))
      failed += (failed.empty() ? "" : ", ") + r.name + " (" + std::to_string(r.failed) + " of " +
                std::to_string(r.its.size()) + " systems)";
  require(failed.empty(), "bench recycle: methods failed (no convergence or a non-finite error): " + failed);
  return 0;
}

}  // namespace bilearn
