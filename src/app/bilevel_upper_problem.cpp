#include "bilearn/app/bilevel_upper_problem.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "bilearn/app/report.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/io/binary_viewer.hpp"

namespace bilearn {

BilevelUpperProblem::BilevelUpperProblem(Workspace& ws) : ws_(ws) {
  ws_.bilevel->set_tolerate_failures(true);
}

PetscInt BilevelUpperProblem::dim() const {
  return ws_.bilevel->num_params();
}

PetscInt BilevelUpperProblem::num_samples() const {
  return ws_.bilevel->total_samples();
}

Evaluation BilevelUpperProblem::evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc) {
  BilevelProblem& problem = *ws_.bilevel;
  problem.lower_solver().set_gradient_tolerance(acc.lower_tol);
  problem.set_krylov_rtol(acc.krylov_tol);
  problem.set_active_samples(acc.samples);
  UpperEvaluation e = ws_.estimator->evaluate(problem, theta, need_gradient);
  const EvaluationStats stats = reduce_stats(ws_, e.stats);
  totals_.add(stats);
  Evaluation out;
  out.loss = std::isfinite(e.loss) ? e.loss : PETSC_INFINITY;
  out.gradient = std::move(e.gradient);
  out.krylov_iterations = stats.krylov_iterations;
  out.lower_iterations = stats.lower_iterations;
  return out;
}

namespace {
std::string sample_file(const std::string& dir, PetscInt index) {
  char name[48];
  std::snprintf(name, sizeof(name), "/sample_%05d.bin", (int)index);
  return dir + name;
}
}  // namespace

void BilevelUpperProblem::save_state(const std::string& dir) {
  for (auto& s : ws_.bilevel->samples()) {
    OwnedViewer viewer = open_binary_viewer(ws_.grid->comm(), sample_file(dir, s.index), FILE_MODE_WRITE);
    BILEARN_CHECK(VecView(s.x_hat, viewer));
    BILEARN_CHECK(VecView(s.adjoint, viewer));
  }
  MPI_Barrier(PETSC_COMM_WORLD);  // every group's files are complete
}

void BilevelUpperProblem::load_state(const std::string& dir) {
  int missing = 0;
  for (auto& s : ws_.bilevel->samples()) missing += std::filesystem::exists(sample_file(dir, s.index)) ? 0 : 1;
  int missing_anywhere = 0;
  MPI_Allreduce(&missing, &missing_anywhere, 1, MPI_INT, MPI_MAX, PETSC_COMM_WORLD);
  require(missing_anywhere == 0, "checkpoint '" + dir + "' lacks the per-sample warm starts (sample_*.bin)");
  for (auto& s : ws_.bilevel->samples()) {
    OwnedViewer viewer = open_binary_viewer(ws_.grid->comm(), sample_file(dir, s.index), FILE_MODE_READ);
    BILEARN_CHECK(VecLoad(s.x_hat, viewer));
    BILEARN_CHECK(VecLoad(s.adjoint, viewer));
  }
}

}  // namespace bilearn
