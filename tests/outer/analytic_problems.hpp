// Analytic UpperProblem implementations for the outer-loop tests. The terms of each function
// are spread over the ranks (term i on rank i mod size) and summed with MPI_Allreduce, so
// the collective path is exercised like the real problem's reductions over samples.
#pragma once
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/outer/outer_options.hpp"
#include "bilearn/outer/state_codec.hpp"
#include "bilearn/outer/upper_problem.hpp"
#include "test_support.hpp"

namespace outer_test {

using bilearn::Accuracy;
using bilearn::Evaluation;

class AnalyticProblem : public bilearn::UpperProblem {
 public:
  AnalyticProblem(PetscInt p, PetscInt samples) : p_(p), samples_(samples) {}
  PetscInt dim() const override { return p_; }
  PetscInt num_samples() const override { return samples_; }

  // The exact function on one sample: adds its value to f and its gradient to g.
  virtual void term(PetscInt sample, PetscInt i, const std::vector<PetscReal>& theta, PetscReal& f,
                    std::vector<PetscReal>& g) const = 0;

  // Exact mean over the given samples (all if empty). Collective.
  PetscReal exact(const std::vector<PetscReal>& theta, std::vector<PetscReal>* grad,
                  const std::vector<PetscInt>& subset = {}) const {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    std::vector<PetscInt> used(subset);
    if (used.empty())
      for (PetscInt s = 0; s < samples_; ++s) used.push_back(s);
    std::vector<PetscReal> buf(static_cast<size_t>(p_) + 1, 0.0), g(static_cast<size_t>(p_), 0.0);
    PetscReal f = 0;
    PetscInt t = 0;
    for (PetscInt s : used)
      for (PetscInt i = 0; i < p_; ++i, ++t)
        if (t % size == rank) term(s, i, theta, f, g);
    buf[0] = f;
    for (PetscInt i = 0; i < p_; ++i) buf[1 + i] = g[i];
    MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    const auto n = static_cast<PetscReal>(used.size());
    if (grad) {
      grad->assign(buf.begin() + 1, buf.end());
      for (auto& v : *grad) v /= n;
    }
    return buf[0] / n;
  }

  Evaluation evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc) override {
    ++evaluations;
    if (need_gradient) ++gradient_evaluations;
    tolerances.push_back(acc.tolerance);
    lower_tolerances.push_back(acc.lower_tol);
    batches.push_back(acc.samples);
    Evaluation e;
    std::vector<PetscReal> g;
    e.loss = exact(theta, &g, acc.samples);
    if (need_gradient) e.gradient = g;
    e.lower_iterations = 5;
    e.krylov_iterations = need_gradient ? 3 : 0;
    if (noisy && acc.tolerance > 0) {
      // Deterministic noise of size ≤ ε = acc.tolerance in L and in ∇L (a hash of θ and ε).
      std::uint64_t h = bilearn::checksum(theta.data(), theta.size() * sizeof(PetscReal));
      h = bilearn::checksum(&acc.tolerance, sizeof(PetscReal), h);
      auto uniform = [&h]() {
        h = bilearn::checksum(&h, sizeof(h), h);
        return 2.0 * static_cast<double>(h >> 11) / 9007199254740992.0 - 1.0;
      };
      e.loss += acc.tolerance * uniform();
      const PetscReal scale = acc.tolerance / std::sqrt(static_cast<PetscReal>(p_));
      for (auto& v : e.gradient) v += scale * uniform();
      e.error_bound = acc.tolerance;
    }
    if (sabotage_trials && !need_gradient) e.loss += 1e3;  // every line-search trial fails
    // Trials biased upwards by their accuracy: a search fails when the decrease is below it.
    if (bias_trials_by_tolerance && !need_gradient) e.loss += acc.tolerance;
    if (sabotage_after >= 0 && evaluations > sabotage_after && !need_gradient) e.loss += 1e3;
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (raise_at_evaluation == evaluations && rank == 0) std::raise(SIGUSR1);
    return e;
  }

  void accept(const std::vector<PetscReal>& theta) override {
    ++accepts;
    last_accepted = theta;
  }

  // A small state file (rank 0) plus a larger one, so corruption tests can damage either.
  void save_state(const std::string& dir) override {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
      std::ofstream(dir + "/counter.txt") << accepts << "\n";
      std::ofstream big(dir + "/warm_start.bin", std::ios::binary);
      std::vector<double> data(4096, 0.5);
      big.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * 8));
    }
    if (saves == fail_save_at) {  // a full disk: the same exception on every rank, files half written
      ++saves;
      throw bilearn::InputError("cannot write '" + dir + "/warm_start.bin': No space left on device");
    }
    ++saves;
  }
  void load_state(const std::string& dir) override {
    std::ifstream in(dir + "/counter.txt");
    in >> loaded_accepts;
    loaded_from = dir;
  }

  bool noisy = false;
  bool sabotage_trials = false;
  bool bias_trials_by_tolerance = false;
  PetscInt sabotage_after = -1;  // loss-only evaluations fail after this many evaluations
  PetscInt raise_at_evaluation = -1;
  PetscInt fail_save_at = -1;  // save_state number fail_save_at (0-based) throws on every rank
  PetscInt evaluations = 0, gradient_evaluations = 0, accepts = 0, saves = 0, loaded_accepts = -1;
  std::vector<PetscReal> tolerances;        // Accuracy::tolerance of each evaluation
  std::vector<PetscReal> lower_tolerances;  // Accuracy::lower_tol
  std::vector<std::vector<PetscInt>> batches;
  std::vector<PetscReal> last_accepted;
  std::string loaded_from;

 protected:
  PetscInt p_, samples_;
};

// ½ Σ_i d_i (θ_i − t_{s,i})² averaged over samples; d_i = 1 + i, t_{s,i} = 1 + 0.1 s − 0.05 i.
class Quadratic : public AnalyticProblem {
 public:
  explicit Quadratic(PetscInt p = 6, PetscInt samples = 1) : AnalyticProblem(p, samples) {}
  static PetscReal target(PetscInt s, PetscInt i) { return 1.0 + 0.1 * s - 0.05 * i; }
  void term(PetscInt s, PetscInt i, const std::vector<PetscReal>& th, PetscReal& f,
            std::vector<PetscReal>& g) const override {
    const PetscReal d = 1.0 + i, r = th[i] - target(s, i);
    f += 0.5 * d * r * r;
    g[i] += d * r;
  }
  // Minimiser and minimum over all samples (targets averaged).
  std::vector<PetscReal> minimiser() const {
    std::vector<PetscReal> m(static_cast<size_t>(p_), 0.0);
    for (PetscInt i = 0; i < p_; ++i) {
      for (PetscInt s = 0; s < samples_; ++s) m[i] += target(s, i);
      m[i] /= static_cast<PetscReal>(samples_);
    }
    return m;
  }
};

// κ·Quadratic: the same minimiser, L and ∇L κ times larger (as the upper loss grows with the
// pixel count for the same images).
class ScaledQuadratic : public Quadratic {
 public:
  ScaledQuadratic(PetscReal kappa, PetscInt p, PetscInt samples) : Quadratic(p, samples), kappa_(kappa) {}
  void term(PetscInt s, PetscInt i, const std::vector<PetscReal>& th, PetscReal& f,
            std::vector<PetscReal>& g) const override {
    PetscReal fi = 0;
    std::vector<PetscReal> gi(g.size(), 0.0);
    Quadratic::term(s, i, th, fi, gi);
    f += kappa_ * fi;
    for (size_t k = 0; k < g.size(); ++k) g[k] += kappa_ * gi[k];
  }

 private:
  PetscReal kappa_;
};

// Extended Rosenbrock Σ_{i<p−1} 100(θ_{i+1} − θ_i²)² + (1 − θ_i)², minimum 0 at θ = 1.
class Rosenbrock : public AnalyticProblem {
 public:
  explicit Rosenbrock(PetscInt p = 2) : AnalyticProblem(p, 1) {}
  void term(PetscInt, PetscInt i, const std::vector<PetscReal>& th, PetscReal& f,
            std::vector<PetscReal>& g) const override {
    if (i + 1 >= p_) return;
    const PetscReal a = th[i + 1] - th[i] * th[i], b = 1 - th[i];
    f += 100 * a * a + b * b;
    g[i] += -400 * a * th[i] - 2 * b;
    g[i + 1] += 200 * a;
  }
};

// (L0,L1)-smooth, not L-smooth: Σ_i (cosh(2(θ_i − c_i)) − 1), c_i = 0.25 i; |f''| ≤ 4 + 2|f'|.
class CoshSum : public AnalyticProblem {
 public:
  explicit CoshSum(PetscInt p = 4) : AnalyticProblem(p, 1) {}
  void term(PetscInt, PetscInt i, const std::vector<PetscReal>& th, PetscReal& f,
            std::vector<PetscReal>& g) const override {
    const PetscReal r = 2 * (th[i] - 0.25 * i);
    const PetscReal h = std::sinh(r / 2);
    f += 2 * h * h;  // = cosh(r) − 1 without cancellation
    g[i] += 2 * std::sinh(r);
  }
};

// A fresh directory on rank 0, name shared by all ranks, removed at the end.
class TempDir {
 public:
  TempDir() {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char buf[256] = {0};
    if (rank == 0) {
      std::snprintf(buf, sizeof(buf), "%s", "/tmp/bilearn_outer_XXXXXX");
      if (!mkdtemp(buf)) buf[0] = 0;
    }
    MPI_Bcast(buf, sizeof(buf), MPI_CHAR, 0, MPI_COMM_WORLD);
    path_ = buf;
  }
  ~TempDir() {
    MPI_Barrier(MPI_COMM_WORLD);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::error_code ec;
    if (rank == 0 && !path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

using bilearn_test::read_file;

// history.csv as rows of fields (header first).
inline std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream ls(line);
    for (std::string f; std::getline(ls, f, ',');) fields.push_back(f);
    rows.push_back(fields);
  }
  return rows;
}

inline bilearn::OuterOptions quiet_options(const std::string& type) {
  bilearn::OuterOptions o;
  o.type = type;
  o.progress = false;
  return o;
}

}  // namespace outer_test
