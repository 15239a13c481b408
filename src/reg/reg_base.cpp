#include "bilearn/reg/reg_base.hpp"

#include <cmath>

#include "bilearn/core/error.hpp"

namespace bilearn {

void sum_reduce(MPI_Comm comm, const PetscReal* in, PetscReal* out, size_t count) {
  if (MPI_Allreduce(in, out, static_cast<int>(count), MPIU_REAL, MPI_SUM, comm) != MPI_SUCCESS)
    throw PetscFailure(PETSC_ERR_MPI, "MPI_Allreduce failed in a regulariser");
}

void RegulariserBase::set_theta(const std::vector<PetscReal>& theta) {
  require(theta.size() == theta_.size(), "θ has " + std::to_string(theta.size()) + " values, " + theta_requirement());
  for (PetscReal t : theta)
    if (!std::isfinite(t)) throw NumericalError("θ for " + name() + " contains a non-finite value");
  theta_ = theta;
  on_theta_changed();
}

}  // namespace bilearn
