#include "bilearn/driver/bilevel_upper_problem.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "bilearn/core/error.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/io/natural_vec_file.hpp"
#include "bilearn/krylov/recycle_space_file.hpp"

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
  ws_.estimator->set_krylov_rtol(acc.krylov_tol);
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

PetscReal BilevelUpperProblem::reconstruct(const std::vector<PetscReal>& theta) {
  BilevelProblem& problem = *ws_.bilevel;
  problem.set_active_samples({});
  problem.lower_solver().set_gradient_tolerance(0);
  EvaluationStats unused;
  return problem.reconstruct(theta, unused);
}

namespace {
std::string sample_file(const std::string& dir, PetscInt index, const char* kind = "sample") {
  char name[48];
  std::snprintf(name, sizeof(name), "/%s_%05d.bin", kind, (int)index);
  return dir + name;
}

std::string space_file(const std::string& dir, PetscInt index) {
  return sample_file(dir, index, "space");
}

// Throws InputError on every rank of comm with the message of the lowest rank that has one.
void raise_first_error(MPI_Comm comm, const std::string& message) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  int mine = message.empty() ? size : rank, first = size;
  MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first == size) return;
  int len = rank == first ? static_cast<int>(message.size()) : 0;
  MPI_Bcast(&len, 1, MPI_INT, first, comm);
  std::string text = rank == first ? message : std::string(static_cast<size_t>(len), ' ');
  MPI_Bcast(text.data(), len, MPI_CHAR, first, comm);
  throw InputError(text);
}
}  // namespace

void BilevelUpperProblem::save_state(const std::string& dir) {
  // Each group's rank 0 writes its samples' files; a failed write (full disk) is the same error
  // on every rank of the group, which stops the group's writes, and then on every rank.
  std::string error;
  std::vector<KSP> saved;  // -hyper_share_space: one KSP serves several samples, its space is saved once
  for (auto& s : ws_.bilevel->samples()) {
    error = write_natural_vecs(sample_file(dir, s.index), ws_.grid->dm(), {}, {s.x_hat, s.adjoint});
    if (!error.empty()) break;
    KSP ksp = ws_.estimator->existing_sample_ksp(s);  // null before the sample's first hypergradient
    const bool first = std::find(saved.begin(), saved.end(), ksp) == saved.end();
    saved.push_back(ksp);
    try {
      krylov::write_recycle_space(space_file(dir, s.index), first ? ksp : nullptr, ws_.grid->dm());
    } catch (const InputError& e) {
      error = e.what();
      break;
    }
  }
  raise_first_error(PETSC_COMM_WORLD, error);  // also: every group's files are complete
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
    s.solved_theta.clear();
  }
  load_spaces(dir);
}

void BilevelUpperProblem::load_spaces(const std::string& dir) {
  // One sample's space in memory at a time. With -hyper_share_space the samples of a group
  // share one KSP: it is seeded once, with the first space found (save_state writes it with
  // the group's first sample only).
  std::vector<KSP> seeded;
  std::string error;
  for (auto& s : ws_.bilevel->samples()) {
    std::vector<OwnedVec> space;
    krylov::SpaceState state;
    error = krylov::read_recycle_space(space_file(dir, s.index), ws_.grid->dm(), space, &state);
    if (!error.empty()) break;    // the same verdict on every rank of the group
    if (space.empty()) continue;  // no space saved (non-recycling KSP, older checkpoint)
    KSP ksp = ws_.estimator->sample_ksp(*ws_.bilevel, s);
    if (!ksp) continue;  // an estimator without a KSP: nothing to seed
    if (std::find(seeded.begin(), seeded.end(), ksp) != seeded.end()) continue;
    krylov::seed_recycle_space(ksp, space, &state);
    seeded.push_back(ksp);
  }
  raise_first_error(PETSC_COMM_WORLD, error);  // a bad file in any group stops every rank
}

}  // namespace bilearn
