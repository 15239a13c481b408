#include "bilearn/reg/reg_base.hpp"

#include <cmath>
#include <cstdio>

#include "bilearn/core/error.hpp"

namespace bilearn {

void sum_reduce(MPI_Comm comm, const PetscReal* in, PetscReal* out, size_t count) {
  if (MPI_Allreduce(in, out, static_cast<int>(count), MPIU_REAL, MPI_SUM, comm) != MPI_SUCCESS)
    throw PetscFailure(PETSC_ERR_MPI, "MPI_Allreduce failed in a regulariser");
}

void RegulariserBase::check_theta(const std::vector<PetscReal>& theta) const {
  require(theta.size() == theta_.size(), "θ has " + std::to_string(theta.size()) + " values, " + theta_requirement());
  for (PetscReal t : theta)
    if (!std::isfinite(t)) throw NumericalError("θ for " + name() + " contains a non-finite value");
}

void RegulariserBase::set_initial_theta(const std::vector<PetscReal>& theta) {
  check_theta(theta);
  initial_ = theta;
}

void RegulariserBase::bind(const std::vector<PetscReal>& theta) {
  if (theta == theta_) return;
  check_theta(theta);
  theta_ = theta;
  on_theta_changed();
}

void RegulariserBase::bind_point_theta() {
  require(!point_theta_.empty(), name() + ": Hessian or mixed product before set_point");
  bind(point_theta_);
}

void RegulariserBase::view(PetscViewer viewer) const {
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "Regulariser: %s\n", name().c_str()));
  BILEARN_CHECK(PetscViewerASCIIPushTab(viewer));
  for (const std::string& line : view_lines()) BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "%s\n", line.c_str()));
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "theta (%d): %s\n", (int)num_params(), theta_summary().c_str()));
  std::string values;
  char number[32];
  const std::vector<PetscReal>& initial = initial_theta();
  for (size_t i = 0; i < initial.size(); ++i) {
    std::snprintf(number, sizeof(number), "%s%g", i ? "," : "", (double)initial[i]);
    values += number;
  }
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "initial theta: %s\n", values.c_str()));
  BILEARN_CHECK(PetscViewerASCIIPopTab(viewer));
}

PetscReal RegulariserBase::value(Vec x, const std::vector<PetscReal>& theta) {
  bind(theta);
  return value_at(x);
}

void RegulariserBase::gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) {
  bind(theta);
  gradient_at(x, g);
}

std::vector<PetscReal> RegulariserBase::theta_gradient(Vec x, const std::vector<PetscReal>& theta) {
  bind(theta);
  return theta_gradient_at(x);
}

void RegulariserBase::set_point(Vec x, const std::vector<PetscReal>& theta) {
  bind(theta);
  point_theta_ = theta;
  set_point_at(x);
}

void RegulariserBase::hessian_mult(Vec v, Vec y) {
  bind_point_theta();
  hessian_mult_at(v, y);
}

void RegulariserBase::hessian_diagonal(Vec d) {
  bind_point_theta();
  hessian_diagonal_at(d);
}

void RegulariserBase::mixed_mult(Vec v, std::vector<PetscReal>& Jv) {
  bind_point_theta();
  mixed_mult_at(v, Jv);
}

void RegulariserBase::mixed_mult_transpose(const std::vector<PetscReal>& w, Vec y) {
  bind_point_theta();
  mixed_mult_transpose_at(w, y);
}

}  // namespace bilearn
