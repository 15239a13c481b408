// `bilearn bench recycle-synthetic [--json F]`: cost of recycling on a synthetic sequence (2-D
// Laplacian N×N on a DMDA plus a slowly changing random diagonal): time per iteration of
// rminres/rcg at k against KSPMINRES/KSPCG, with the loop alone (frozen space) and with the
// space update, and total iterations and wall time over the sequence, warm started. Prints a
// table; --json FILE. Options:
//   -bench_n N (512), -bench_k k (10), -bench_iterations it (200) for the per-iteration timing,
//   -bench_repeat r (3, best of), -bench_systems S (4), -bench_rtol (1e-6),
//   -bench_diag (1e-3: D₀ ∈ [0, diag]), -bench_delta (2e-4: H_t = L + D₀ + t·δ·D₁).
#include <petscdmda.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/krylov/create_ksp.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"

namespace bilearn {
namespace {

struct Settings {
  PetscInt n = 512, k = 10, iterations = 200, repeat = 3, systems = 4;
  PetscReal rtol = 1e-6, diag = 1e-3, delta = 2e-4;
};

Settings read_settings(MPI_Comm comm) {
  Settings s;
  OptionsBlock b(comm, "", "Synthetic recycling benchmark (bilearn bench recycle-synthetic)");
  s.n = b.integer("-bench_n", "image side N of the 2-D Laplacian", s.n, 4);
  s.k = b.integer("-bench_k", "recycle space dimension", s.k, 1);
  s.iterations = b.integer("-bench_iterations", "iterations of the per-iteration timing", s.iterations, 10);
  s.repeat = b.integer("-bench_repeat", "repetitions of each timing (best is kept)", s.repeat, 1);
  s.systems = b.integer("-bench_systems", "systems in the sequence", s.systems, 1);
  s.rtol = b.real("-bench_rtol", "relative residual tolerance of the sequence", s.rtol, 1e-14, 0.5);
  s.diag = b.real("-bench_diag", "scale of the random diagonal D0", s.diag, 0.0, PETSC_INFINITY);
  s.delta = b.real("-bench_delta", "change of the diagonal per system", s.delta, 0.0, PETSC_INFINITY);
  return s;
}

double hash01(std::int64_t i, std::uint64_t seed) {
  std::uint64_t z = static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<double>((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

// The synthetic family on a 2-D DMDA (5-point star): L, D₀, D₁, b₀, b₁.
struct Family {
  OwnedDM da;
  OwnedMat laplacian;
  OwnedVec d0, d1, b0, b1;

  Family(MPI_Comm comm, const Settings& s) {
    BILEARN_CHECK(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_STAR, s.n, s.n, PETSC_DECIDE,
                               PETSC_DECIDE, 1, 1, nullptr, nullptr, da.out()));
    BILEARN_CHECK(DMSetUp(da));
    BILEARN_CHECK(DMCreateMatrix(da, laplacian.out()));
    PetscInt x0, y0, nx, ny;
    BILEARN_CHECK(DMDAGetCorners(da, &x0, &y0, nullptr, &nx, &ny, nullptr));
    for (PetscInt j = y0; j < y0 + ny; ++j)
      for (PetscInt i = x0; i < x0 + nx; ++i) {
        MatStencil row{}, cols[5]{};
        PetscScalar vals[5];
        PetscInt k = 0;
        row.i = i;
        row.j = j;
        auto add = [&](PetscInt ci, PetscInt cj, PetscScalar v) {
          cols[k].i = ci;
          cols[k].j = cj;
          vals[k++] = v;
        };
        if (j > 0) add(i, j - 1, -1.0);
        if (i > 0) add(i - 1, j, -1.0);
        add(i, j, 4.0);
        if (i < s.n - 1) add(i + 1, j, -1.0);
        if (j < s.n - 1) add(i, j + 1, -1.0);
        BILEARN_CHECK(MatSetValuesStencil(laplacian, 1, &row, k, cols, vals, INSERT_VALUES));
      }
    BILEARN_CHECK(MatAssemblyBegin(laplacian, MAT_FINAL_ASSEMBLY));
    BILEARN_CHECK(MatAssemblyEnd(laplacian, MAT_FINAL_ASSEMBLY));
    BILEARN_CHECK(MatSetOption(laplacian, MAT_SYMMETRIC, PETSC_TRUE));
    d0 = field(s, 1, s.diag, 0.0);
    d1 = field(s, 2, 1.0, 0.0);
    b0 = field(s, 3, 1.0, -0.5);
    b1 = field(s, 4, 1.0, -0.5);
  }

  // scale·hash(natural index) + offset on the DMDA
  OwnedVec field(const Settings& s, std::uint64_t seed, double scale, double offset) {
    OwnedVec v;
    BILEARN_CHECK(DMCreateGlobalVector(da, v.out()));
    PetscScalar** a = nullptr;
    PetscInt x0, y0, nx, ny;
    BILEARN_CHECK(DMDAGetCorners(da, &x0, &y0, nullptr, &nx, &ny, nullptr));
    BILEARN_CHECK(DMDAVecGetArray(da, v, &a));
    for (PetscInt j = y0; j < y0 + ny; ++j)
      for (PetscInt i = x0; i < x0 + nx; ++i) a[j][i] = scale * hash01(j * s.n + i, seed) + offset;
    BILEARN_CHECK(DMDAVecRestoreArray(da, v, &a));
    return v;
  }

  // R_t = t·δ·D₁ (a diagonal matrix), H_t = L + D₀ + R_t, b_t = b₀ + t·δ·b₁
  OwnedMat varying(double t, const Settings& s) const {
    OwnedMat r;
    BILEARN_CHECK(MatDuplicate(laplacian, MAT_DO_NOT_COPY_VALUES, r.out()));
    BILEARN_CHECK(MatZeroEntries(r));
    OwnedVec d;
    BILEARN_CHECK(VecDuplicate(d1, d.out()));
    BILEARN_CHECK(VecAXPBY(d, t * s.delta, 0.0, d1));
    BILEARN_CHECK(MatDiagonalSet(r, d, INSERT_VALUES));
    return r;
  }
  OwnedMat fixed() const {
    OwnedMat f;
    BILEARN_CHECK(MatDuplicate(laplacian, MAT_COPY_VALUES, f.out()));
    BILEARN_CHECK(MatDiagonalSet(f, d0, ADD_VALUES));
    return f;
  }
  OwnedMat h(double t, const Settings& s) const {
    OwnedMat a = fixed();
    OwnedVec d;
    BILEARN_CHECK(VecDuplicate(d1, d.out()));
    BILEARN_CHECK(VecAXPBY(d, t * s.delta, 0.0, d1));
    BILEARN_CHECK(MatDiagonalSet(a, d, ADD_VALUES));
    return a;
  }
  OwnedVec b(double t, const Settings& s) const {
    OwnedVec v;
    BILEARN_CHECK(VecDuplicate(b0, v.out()));
    BILEARN_CHECK(VecWAXPY(v, t * s.delta, b1, b0));
    return v;
  }
};

OwnedKSP make_ksp(MPI_Comm comm, const char* type, const std::string& prefix,
                  const std::vector<std::pair<std::string, std::string>>& opts) {
  OwnedKSP ksp = krylov::create_ksp(comm, type, prefix, PETSC_DEFAULT, PETSC_DEFAULT);
  for (const auto& [name, value] : opts) {
    const std::string full = "-" + prefix + name.substr(1);
    PetscBool set = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, full.c_str(), &set));
    if (!set) BILEARN_CHECK(PetscOptionsSetValue(nullptr, full.c_str(), value.c_str()));
  }
  BILEARN_CHECK(KSPSetFromOptions(ksp));
  return ksp;
}

double timed(MPI_Comm comm, const std::function<void()>& f) {
  BILEARN_CHECK(MPI_Barrier(comm));
  const double t0 = MPI_Wtime();
  f();
  return max_over_ranks(comm, MPI_Wtime() - t0);
}

struct PerIteration {
  std::string name;
  double seconds = 1e300;  // per iteration, best of repeats
  OwnedKSP ksp;
  OwnedVec x;
};

// A solver for the per-iteration timing: a fixed number of iterations on H₁ after one full solve
// on H₀ that builds the space when the type recycles. frozen: the space is not updated in the
// timed runs (the loop alone).
PerIteration prepare_timing(MPI_Comm comm, const Family& fam, const Settings& s, Mat h0, Mat h1, const char* type,
                            const std::string& name, std::vector<std::pair<std::string, std::string>> opts,
                            bool recycles, bool frozen) {
  const std::string prefix = "bench_" + name + "_";
  PerIteration out;
  out.name = name;
  out.ksp = make_ksp(comm, type, prefix, opts);
  OwnedVec b0 = fam.b(0, s);
  BILEARN_CHECK(VecDuplicate(b0, out.x.out()));
  if (recycles) {  // build the space on H₀
    BILEARN_CHECK(KSPSetTolerances(out.ksp, s.rtol, 1e-50, PETSC_DEFAULT, 100000));
    BILEARN_CHECK(KSPSetOperators(out.ksp, h0, h0));
    BILEARN_CHECK(VecSet(out.x, 0.0));
    BILEARN_CHECK(KSPSolve(out.ksp, b0, out.x));
    if (frozen) {
      BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + "ksp_recycle_update").c_str(), "0"));
      BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + "ksp_recycle_check").c_str(), "0"));
      BILEARN_CHECK(KSPSetFromOptions(out.ksp));
    }
  }
  BILEARN_CHECK(KSPSetTolerances(out.ksp, 1e-30, 1e-300, PETSC_DEFAULT, s.iterations));
  BILEARN_CHECK(KSPSetOperators(out.ksp, h1, h1));
  return out;
}

// Round-robin over the solvers so that a change of machine load hits all of them alike.
void time_per_iteration(MPI_Comm comm, const Family& fam, const Settings& s, std::vector<PerIteration>& solvers) {
  OwnedVec b1 = fam.b(1, s);
  for (PetscInt r = 0; r < s.repeat; ++r)
    for (auto& p : solvers) {
      PetscInt its = 0;
      const double t = timed(comm, [&] {
        BILEARN_CHECK(VecSet(p.x, 0.0));
        BILEARN_CHECK(KSPSolve(p.ksp, b1, p.x));
      });
      BILEARN_CHECK(KSPGetIterationNumber(p.ksp, &its));
      p.seconds = std::min(p.seconds, t / static_cast<double>(std::max<PetscInt>(its, 1)));
    }
}

struct SequenceRow {
  std::string name;
  PetscInt iterations = 0, applies = 0;
  double seconds = 0;
  std::vector<PetscInt> its;
};

// Warm-started sequence t = 0..S−1; applies counts every product with H (iterations, initial
// residual, C = HU, true-residual checks; R products of a split count as R).
SequenceRow sequence(MPI_Comm comm, const Family& fam, const Settings& s, const char* type, const std::string& name,
                     const std::vector<std::pair<std::string, std::string>>& opts, bool recycles, bool split) {
  SequenceRow row;
  row.name = name;
  OwnedKSP ksp = make_ksp(comm, type, "bench_" + name + "_", opts);
  BILEARN_CHECK(KSPSetTolerances(ksp, s.rtol, 1e-50, PETSC_DEFAULT, 100000));
  BILEARN_CHECK(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
  OwnedMat f = fam.fixed();
  OwnedVec x;
  BILEARN_CHECK(VecDuplicate(fam.b0, x.out()));
  BILEARN_CHECK(VecSet(x, 0.0));
  for (PetscInt t = 0; t < s.systems; ++t) {
    OwnedMat h = fam.h(static_cast<double>(t), s), r = fam.varying(static_cast<double>(t), s);
    OwnedVec b = fam.b(static_cast<double>(t), s);
    if (split) BILEARN_CHECK(KSPRecycleSetOperatorSplit(ksp, f, r));
    BILEARN_CHECK(KSPSetOperators(ksp, h, h));
    row.seconds += timed(comm, [&] { BILEARN_CHECK(KSPSolve(ksp, b, x)); });
    PetscInt its = 0;
    BILEARN_CHECK(KSPGetIterationNumber(ksp, &its));
    KSPConvergedReason reason;
    BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
    if (reason < 0)
      BILEARN_CHECK(PetscPrintf(comm, "  %s: system %d did not converge (%s)\n", name.c_str(), (int)t,
                                KSPConvergedReasons[reason]));
    row.its.push_back(its);
    row.iterations += its;
    row.applies += its + (t > 0 ? 1 : 0);  // + the initial residual of a warm start
    if (recycles) {
      KSPRecycleInfo info{};
      BILEARN_CHECK(KSPRecycleGetInfo(ksp, &info));
      row.applies += info.operator_applies + info.check_applies;
    }
  }
  return row;
}

}  // namespace

int bench_recycle_synthetic(const CommandLine& cl) {
  const double start = MPI_Wtime();
  const MPI_Comm comm = PETSC_COMM_WORLD;
  const Settings s = read_settings(comm);
  if (help_requested()) return 0;  // the options are printed; nothing is measured
  int ranks = 1;
  BILEARN_CHECK(MPI_Comm_size(comm, &ranks));
  const Family fam(comm, s);
  const std::string k = std::to_string(s.k);

  // 1. Time per iteration at k (space built on H₀, timed on H₁).
  std::vector<PerIteration> per;
  {
    OwnedMat h0 = fam.h(0, s), h1 = fam.h(1, s);
    per.push_back(prepare_timing(comm, fam, s, h0, h1, KSPMINRES, "minres", {}, false, false));
    per.push_back(
        prepare_timing(comm, fam, s, h0, h1, KSPRMINRES, "rminres_frozen", {{"-ksp_recycle_k", k}}, true, true));
    per.push_back(
        prepare_timing(comm, fam, s, h0, h1, KSPRMINRES, "rminres_update", {{"-ksp_recycle_k", k}}, true, false));
    per.push_back(prepare_timing(comm, fam, s, h0, h1, KSPCG, "cg", {}, false, false));
    per.push_back(prepare_timing(comm, fam, s, h0, h1, KSPRCG, "rcg_frozen", {{"-ksp_recycle_k", k}}, true, true));
    per.push_back(prepare_timing(comm, fam, s, h0, h1, KSPRCG, "rcg_update", {{"-ksp_recycle_k", k}}, true, false));
    time_per_iteration(comm, fam, s, per);
  }
  BILEARN_CHECK(PetscPrintf(comm,
                            "bench recycle-synthetic: 2-D Laplacian %dx%d + random diagonal, %d rank%s, k = %d, "
                            "%d iterations per timing (best of %d)\n",
                            (int)s.n, (int)s.n, ranks, ranks == 1 ? "" : "s", (int)s.k, (int)s.iterations,
                            (int)s.repeat));
  BILEARN_CHECK(PetscPrintf(comm, "%-16s %12s %10s\n", "solver", "ms/iteration", "vs plain"));
  for (const auto& p : per) {
    const double base =
        (p.name.rfind("minres", 0) == 0 || p.name.rfind("rminres", 0) == 0) ? per[0].seconds : per[3].seconds;
    BILEARN_CHECK(PetscPrintf(comm, "%-16s %12.4f %9.3fx\n", p.name.c_str(), 1e3 * p.seconds, p.seconds / base));
  }
  BILEARN_CHECK(PetscPrintf(comm,
                            "(frozen: the loop alone with a space of dimension k, no update; update: with the "
                            "cycled space update, m = 3k; includes preparing C and the true-residual check)\n"));

  // 2. The warm-started sequence.
  std::vector<SequenceRow> rows;
  rows.push_back(sequence(comm, fam, s, KSPMINRES, "seq_minres", {}, false, false));
  rows.push_back(sequence(comm, fam, s, KSPRMINRES, "seq_rminres", {{"-ksp_recycle_k", k}}, true, false));
  rows.push_back(sequence(comm, fam, s, KSPRMINRES, "seq_rminres_split", {{"-ksp_recycle_k", k}}, true, true));
  rows.push_back(sequence(comm, fam, s, KSPCG, "seq_cg", {}, false, false));
  rows.push_back(sequence(comm, fam, s, KSPRCG, "seq_rcg", {{"-ksp_recycle_k", k}}, true, false));
  BILEARN_CHECK(PetscPrintf(comm, "sequence of %d systems, rtol %g, warm started:\n", (int)s.systems, (double)s.rtol));
  BILEARN_CHECK(PetscPrintf(comm, "%-20s %8s %8s %9s %10s %8s  %s\n", "solver", "its", "H-apps", "seconds", "ms/it",
                            "time", "iterations per system"));
  for (const auto& r : rows) {
    std::string its;
    for (PetscInt i : r.its) its += std::to_string(i) + " ";
    const double base = r.name.find("cg") != std::string::npos ? rows[3].seconds : rows[0].seconds;
    BILEARN_CHECK(PetscPrintf(comm, "%-20s %8d %8d %9.3f %10.4f %7.3fx  %s\n", r.name.c_str(), (int)r.iterations,
                              (int)r.applies, r.seconds, 1e3 * r.seconds / std::max<PetscInt>(r.iterations, 1),
                              r.seconds / base, its.c_str()));
  }

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "bench recycle-synthetic", start);
    j["theta"] = nlohmann::json::array();
    j["upper_loss"] = nullptr;
    PetscInt total = 0;
    for (const auto& r : rows) total += r.iterations;
    j["krylov_iterations_total"] = total;
    j["lower_iterations_total"] = 0;
    j["n"] = s.n;
    j["k"] = s.k;
    nlohmann::json pj = nlohmann::json::object();
    for (const auto& p : per) pj[p.name] = p.seconds;
    j["seconds_per_iteration"] = pj;
    nlohmann::json sj = nlohmann::json::array();
    for (const auto& r : rows)
      sj.push_back({{"solver", r.name},
                    {"iterations", r.iterations},
                    {"operator_applies", r.applies},
                    {"seconds", r.seconds},
                    {"iterations_per_system", r.its}});
    j["sequence"] = sj;
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
