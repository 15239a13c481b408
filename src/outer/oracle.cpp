#include "bilearn/outer/oracle.hpp"

#include <algorithm>
#include <cmath>

#include "bilearn/core/error.hpp"

namespace bilearn {

PetscReal dot(const std::vector<PetscReal>& a, const std::vector<PetscReal>& b) {
  PetscReal s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

PetscReal norm2(const std::vector<PetscReal>& a) {
  return std::sqrt(dot(a, a));
}

bool all_finite(const std::vector<PetscReal>& a) {
  for (PetscReal v : a)
    if (!std::isfinite(v)) return false;
  return true;
}

namespace {
// One bound per component from a 1-or-p list; `fill` when absent.
std::vector<PetscReal> expand_bound(const std::vector<PetscReal>& given, PetscInt p, PetscReal fill,
                                    const char* option) {
  if (given.empty()) return std::vector<PetscReal>(static_cast<size_t>(p), fill);
  require(given.size() == 1 || static_cast<PetscInt>(given.size()) == p,
          std::string(option) + " needs 1 or " + std::to_string(p) + " values, got " + std::to_string(given.size()));
  if (given.size() == 1) return std::vector<PetscReal>(static_cast<size_t>(p), given[0]);
  return given;
}
}  // namespace

Oracle::Oracle(MPI_Comm comm, UpperProblem& problem, const OuterOptions& opts)
    : comm_(comm), problem_(problem), opts_(opts), dim_(problem.dim()) {
  require(dim_ > 0, "the upper problem has no hyperparameters");
  lo_ = expand_bound(opts.theta_min, dim_, PETSC_NINFINITY, "-outer_theta_min");
  hi_ = expand_bound(opts.theta_max, dim_, PETSC_INFINITY, "-outer_theta_max");
  for (PetscInt i = 0; i < dim_; ++i)
    require(lo_[i] <= hi_[i], "-outer_theta_min must be <= -outer_theta_max (component " + std::to_string(i) + ")");
  bounded_ = !opts.theta_min.empty() || !opts.theta_max.empty();
}

Evaluation Oracle::evaluate(const std::vector<PetscReal>& theta, bool need_gradient, const Accuracy& acc) {
  const double t0 = MPI_Wtime();
  Evaluation e = problem_.evaluate(theta, need_gradient, acc);
  // Broadcast rank 0's result: [loss, error_bound, krylov, lower, gradient size, gradient...].
  int rank = 0;
  MPI_Comm_rank(comm_, &rank);
  std::vector<double> buf(5 + static_cast<size_t>(dim_), 0.0);
  if (rank == 0) {
    buf[0] = e.loss;
    buf[1] = e.error_bound;
    buf[2] = static_cast<double>(e.krylov_iterations);
    buf[3] = static_cast<double>(e.lower_iterations);
    buf[4] = static_cast<double>(e.gradient.size());
    for (size_t i = 0; i < e.gradient.size() && i < static_cast<size_t>(dim_); ++i) buf[5 + i] = e.gradient[i];
  }
  MPI_Bcast(buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE, 0, comm_);
  const auto gsize = static_cast<PetscInt>(buf[4]);
  if (need_gradient && gsize != dim_)
    throw NumericalError("the upper problem returned a hypergradient of length " + std::to_string(gsize) +
                         ", expected " + std::to_string(dim_));
  e.loss = buf[0];
  e.error_bound = buf[1];
  e.krylov_iterations = static_cast<PetscInt>(buf[2]);
  e.lower_iterations = static_cast<PetscInt>(buf[3]);
  if (need_gradient)
    e.gradient.assign(buf.begin() + 5, buf.end());
  else
    e.gradient.clear();
  counters_.evaluations += 1;
  counters_.krylov_iterations += e.krylov_iterations;
  counters_.lower_iterations += e.lower_iterations;
  const double seconds = MPI_Wtime() - t0;
  counters_.evaluation_seconds += seconds;
  if (observer_) observer_(e, need_gradient, seconds);
  return e;
}

PetscReal Oracle::policy_tolerance() const {
  if (!opts_.adaptive_tol) return 0;
  if (current_.eval.gradient.empty()) return opts_.tol_max;
  // tol = clamp(κ‖∇L(θ_k)‖, tol_min, tol_max): loose far from stationarity, tight near it.
  const PetscReal t = opts_.tol_kappa * norm2(current_.eval.gradient);
  return std::min(opts_.tol_max, std::max(opts_.tol_min, t));
}

Accuracy Oracle::accuracy(const std::vector<PetscInt>& samples, PetscReal tolerance) const {
  Accuracy acc;
  const PetscReal tol = tolerance > 0 ? tolerance : policy_tolerance();
  acc.tolerance = tol;
  // ‖∇Φ‖ (absolute) and the relative Krylov residual need not be equal (-outer_tol_lower_scale,
  // outer_options.hpp).
  acc.lower_tol = opts_.tol_lower_scale * tol;
  acc.krylov_tol = tol;
  acc.samples = samples;
  return acc;
}

Point Oracle::evaluate_point(const std::vector<PetscReal>& theta, const std::vector<PetscInt>& samples,
                             PetscReal tolerance) {
  Accuracy acc = accuracy(samples, tolerance);
  Point p;
  p.theta = theta;
  p.eval = evaluate(theta, true, acc);
  p.samples = samples;
  p.tolerance = acc.tolerance;
  return p;
}

void Oracle::project(std::vector<PetscReal>& theta) const {
  if (!bounded_) return;
  for (PetscInt i = 0; i < dim_; ++i) theta[i] = std::min(hi_[i], std::max(lo_[i], theta[i]));
}

PetscReal Oracle::stationarity(const Point& p) const {
  if (!bounded_) return norm2(p.eval.gradient);
  std::vector<PetscReal> q(p.theta);
  for (PetscInt i = 0; i < dim_; ++i) q[i] -= p.eval.gradient[i];
  project(q);
  for (PetscInt i = 0; i < dim_; ++i) q[i] -= p.theta[i];
  return norm2(q);
}

}  // namespace bilearn
