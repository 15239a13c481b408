#include "bilearn/lower/lower_solver.hpp"

#include <cmath>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/lower/hessian_structure.hpp"

namespace bilearn {
namespace {

PetscErrorCode objective_and_gradient(Tao tao, Vec x, PetscReal* f, Vec g, void* ctx) {
  return guarded(PetscObjectComm((PetscObject)tao), __func__,
                 [&] { *f = static_cast<LowerObjective*>(ctx)->value_and_gradient(x, g); });
}

PetscErrorCode hessian_at(Tao tao, Vec x, Mat, Mat, void* ctx) {
  return guarded(PetscObjectComm((PetscObject)tao), __func__, [&] { static_cast<LowerObjective*>(ctx)->set_point(x); });
}

}  // namespace

LowerSolver::LowerSolver(LowerObjective& objective) : objective_(objective) {
  MPI_Comm comm = objective_.grid().comm();
  BILEARN_CHECK(TaoCreate(comm, tao_.out()));
  BILEARN_CHECK(TaoSetOptionsPrefix(tao_, "lower_"));
  BILEARN_CHECK(TaoSetType(tao_, TAONLS));
  BILEARN_CHECK(TaoSetObjectiveAndGradient(tao_, nullptr, objective_and_gradient, &objective_));
  BILEARN_CHECK(TaoSetHessian(tao_, objective_.hessian(), objective_.hessian(), hessian_at, &objective_));
  BILEARN_CHECK(TaoSetTolerances(tao_, gatol_, 0.0, 0.0));
  BILEARN_CHECK(TaoSetMaximumIterations(tao_, 200));
  // Inexact Newton: the Newton systems need only a modest relative accuracy (measured on
  // tomography N = 64: 1505 → 507 Krylov iterations, same Newton steps); -lower_tao_<type>_ksp_rtol overrides.
  KSP ksp = newton_ksp();
  if (ksp) BILEARN_CHECK(KSPSetTolerances(ksp, 1e-2, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  BILEARN_CHECK(TaoSetFromOptions(tao_));
  ksp = newton_ksp();
  if (ksp && is_recycling_ksp(ksp)) {
    // -lower_tao_nls_ksp_type rminres|rcg: the recycle space is carried across Newton steps;
    // H = (AᵀA + εI) + R_t lets it recompute only R_t·U when the point moves.
    recycling_ = true;
  } else {
    use_jacobi_unless_chosen();
  }
  if (ksp) share_hessian_structure(ksp, objective_);
  PetscReal grtol, gttol;
  BILEARN_CHECK(TaoGetTolerances(tao_, &gatol_, &grtol, &gttol));
  require(gatol_ > 0 && std::isfinite(gatol_), "-lower_tao_gatol must be positive");
  configured_gatol_ = gatol_;
}

// H is a MatShell that offers its diagonal: Jacobi is the default preconditioner of the
// Newton-Krylov types (PETSc's default, ILU, cannot work on a MatShell) unless the user
// chose one with -lower_tao_<type>_pc_type.
void LowerSolver::use_jacobi_unless_chosen() {
  KSP ksp = nullptr;
  BILEARN_CHECK(TaoGetKSP(tao_, &ksp));
  if (!ksp) return;
  const char* prefix = nullptr;
  BILEARN_CHECK(KSPGetOptionsPrefix(ksp, &prefix));
  PetscBool chosen = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, prefix, "-pc_type", &chosen));
  if (chosen) return;
  PC pc;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, PCJACOBI));
}

void LowerSolver::set_gradient_tolerance(PetscReal gatol) {
  gatol_ = gatol > 0 ? gatol : configured_gatol_;
  BILEARN_CHECK(TaoSetTolerances(tao_, gatol_, 0.0, 0.0));
}

KSP LowerSolver::newton_ksp() const {
  KSP ksp = nullptr;
  BILEARN_CHECK(TaoGetKSP(tao_, &ksp));
  return ksp;
}

LowerSolveResult LowerSolver::solve(Vec x) {
  BILEARN_CHECK(PetscLogEventBegin(log::events().lower_solve, 0, 0, 0, 0));
  const PetscInt products_before = objective_.hessian_products();
  BILEARN_CHECK(TaoSetSolution(tao_, x));
  BILEARN_CHECK(TaoSolve(tao_));
  LowerSolveResult result;
  PetscReal f, cnorm, xdiff;
  BILEARN_CHECK(
      TaoGetSolutionStatus(tao_, &result.iterations, &f, &result.gradient_norm, &cnorm, &xdiff, &result.reason));
  result.hessian_products = objective_.hessian_products() - products_before;
  BILEARN_CHECK(PetscLogEventEnd(log::events().lower_solve, 0, 0, 0, 0));
  if (result.reason <= 0 || !std::isfinite(result.gradient_norm)) {
    // A line-search stall at a point that meets the tolerance is still a solution.
    if (std::isfinite(result.gradient_norm) && result.gradient_norm <= gatol_) return result;
    std::ostringstream msg;
    msg << "lower-level solve did not converge: TAO reason " << TaoConvergedReasons[result.reason] << " after "
        << result.iterations << " iterations, |grad Phi| = " << result.gradient_norm << " > tolerance " << gatol_
        << " (try -lower_tao_max_it, -lower_tao_gatol or another -lower_tao_type)";
    throw NumericalError(msg.str());
  }
  return result;
}

}  // namespace bilearn
