#include "bilearn/lower/lower_solver.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "bilearn/core/block_dots.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/lower/hessian_structure.hpp"

namespace bilearn {
namespace {

PetscErrorCode objective_and_gradient(Tao tao, Vec x, PetscReal* f, Vec g, void* ctx) {
  return guarded(PetscObjectComm((PetscObject)tao), __func__, [&] {
    auto* c = static_cast<LowerSolver*>(ctx);
    *f = c->objective().value_and_gradient(x, c->theta(), g);
    PetscReal gnorm = 0;
    BILEARN_CHECK(VecNorm(g, NORM_2, &gnorm));  // TAO also stops on a non-finite |g| (one reduction)
    c->note_objective(*f + gnorm);
  });
}

// TAO nls perturbs the Hessian it was given with MatShift(H, pert) (non-convex experts: negative
// curvature); on a MatShell such a shift stays, and adds up over the Newton steps, until the shell
// is assembled again. Each Newton step starts from the plain H, and the hypergradient solves that
// use the same shell after the lower solve see H itself, not H plus the last steps' shifts.
void drop_tao_shift(Mat H) {
  BILEARN_CHECK(MatAssemblyBegin(H, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(H, MAT_FINAL_ASSEMBLY));
}

PetscErrorCode hessian_at(Tao tao, Vec x, Mat H, Mat Hpre, void* ctx) {
  return guarded(PetscObjectComm((PetscObject)tao), __func__, [&] {
    auto* c = static_cast<LowerSolver*>(ctx);
    drop_tao_shift(H);
    if (Hpre != H) drop_tao_shift(Hpre);
    c->objective().set_point(x, c->theta());
    c->begin_newton_step();
  });
}

// A batch of B samples has converged when every sample meets the test a solve of that sample
// alone meets, ‖∇Φ_s‖ ≤ tolerance. TAO's own test on the stacked norm asks √B times more of each
// sample on average; at N = 512 (S = 4) that sat on the rounding floor of the gradient and held
// a solve at ‖∇Φ‖ ≈ 1.8·tolerance for 190 Newton steps (docs/scaling.md §6).
PetscErrorCode batch_convergence_test(Tao tao, void* ctx) {
  return guarded(PetscObjectComm((PetscObject)tao), __func__, [&] {
    BILEARN_CHECK(TaoDefaultConvergenceTest(tao, nullptr));
    TaoConvergedReason reason;
    BILEARN_CHECK(TaoGetConvergedReason(tao, &reason));
    if (reason == TAO_CONTINUE_ITERATING && static_cast<LowerSolver*>(ctx)->blocks_converged())
      BILEARN_CHECK(TaoSetConvergedReason(tao, TAO_CONVERGED_GATOL));
  });
}

}  // namespace

bool LowerSolver::blocks_converged() {
  Vec g = nullptr;
  BILEARN_CHECK(TaoGetGradient(tao_, &g, nullptr, nullptr));
  block_dots(objective_.comm(), objective_.blocks(), {{g, g}}, block_gnorm_);
  for (size_t s = 0; s < block_gnorm_.size(); ++s)
    if (!(std::sqrt(block_gnorm_[s]) <= stop_at_[s])) return false;
  return true;
}

LowerSolver::LowerSolver(LowerProblem& objective) : objective_(objective) {
  MPI_Comm comm = objective_.comm();
  BILEARN_CHECK(TaoCreate(comm, tao_.out()));
  BILEARN_CHECK(TaoSetOptionsPrefix(tao_, "lower_"));
  BILEARN_CHECK(TaoSetType(tao_, TAONLS));
  BILEARN_CHECK(TaoSetObjectiveAndGradient(tao_, nullptr, objective_and_gradient, this));
  BILEARN_CHECK(TaoSetHessian(tao_, objective_.hessian(), objective_.hessian(), hessian_at, this));
  BILEARN_CHECK(TaoSetTolerances(tao_, gatol_, 0.0, 0.0));
  BILEARN_CHECK(TaoSetMaximumIterations(tao_, 200));
  if (objective_.blocks() > 1) BILEARN_CHECK(TaoSetConvergenceTest(tao_, batch_convergence_test, this));
  // Inexact Newton: the Newton systems need only a modest relative accuracy (measured on
  // tomography N = 64: 1505 → 507 Krylov iterations, same Newton steps); -lower_tao_<type>_ksp_rtol overrides.
  KSP ksp = newton_ksp();
  if (ksp) BILEARN_CHECK(KSPSetTolerances(ksp, 1e-2, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  choose_default_solvers();
  preset_from_options();
  BILEARN_CHECK(TaoSetFromOptions(tao_));
  {
    OptionsBlock options(comm, "", "Lower-level Newton systems");
    ew_forcing_ = options.choice("-lower_forcing", "forcing term of the Newton systems: ew (Eisenstat-Walker) | fixed",
                                 {"ew", "fixed"}, "ew") == "ew";
    ew_gamma_ = options.real("-lower_forcing_gamma", "Eisenstat-Walker gamma", 0.9, 1e-3, 1.0);
    ew_alpha_ = options.real("-lower_forcing_alpha", "Eisenstat-Walker alpha", 2.0, 1.0, 2.0);
    ew_max_ = options.real("-lower_forcing_max", "largest forcing term", 0.9, 1e-6, 0.999);
    ksp = newton_ksp();
    if (ksp) BILEARN_CHECK(KSPGetTolerances(ksp, &first_rtol_, nullptr, nullptr, nullptr));
    // Choice 2 asks for tight solves after a fast drop of ‖∇Φ‖, and with the circulant PC a
    // tight solve is dear late in the iteration, where M⁻¹H keeps small eigenvalues in A's
    // near-null space (docs/scaling.md §3): each 10⁻² reduction took 150–330 PCG iterations.
    // A floor of 0.1 trades them for a few more Newton steps: cold solves, foe θ = −2, H
    // products 879 → 768 (N = 64, S = 4), 338 → 267 (N = 128), 1359 → 1209 (N = 256).
    // η₀ stays the Newton KSP's rtol (1e-2); -lower_forcing fixed keeps that rtol throughout.
    ew_min_ = options.real("-lower_forcing_min", "smallest Eisenstat-Walker forcing term", 0.1, 0.0, 0.999);
    dual_newton_ = options.choice("-lower_newton",
                                  "Newton systems of the regulariser: primal_dual (Chan-Golub-Mulet: foe with the l1 "
                                  "expert, tv; others plain) | plain (the true Hessian)",
                                  {"primal_dual", "plain"}, "primal_dual") == "primal_dual";
  }
  {
    OptionsBlock options(comm, "", "Lower-level stopping test");
    gradient_rtol_ =
        options.real("-lower_gradient_rtol",
                     "stop at |grad Phi| <= max(-lower_tao_gatol, this * |A^T y|) (0: gatol alone)", 1e-10, 0.0, 1.0);
  }
  if (ksp && is_recycling_ksp(ksp)) {
    // -lower_tao_nls_ksp_type rminres|rcg: the recycle space is carried across Newton steps;
    // H = (AᵀA + εI) + R_t lets it recompute only R_t·U when the point moves.
    recycling_ = true;
  } else {
    use_default_pc_unless_chosen();
  }
  if (ksp) objective_.share_hessian_structure(ksp);
  {
    PetscBool chosen = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsHasName(nullptr, "lower_", "-tao_ls_type", &chosen));
    TaoLineSearch ls = nullptr;
    BILEARN_CHECK(TaoGetLineSearch(tao_, &ls));
    if (ls && !chosen) objective_.share_line_search(ls);
  }
  PetscReal grtol, gttol;
  BILEARN_CHECK(TaoGetTolerances(tao_, &gatol_, &grtol, &gttol));
  require(gatol_ > 0 && std::isfinite(gatol_), "-lower_tao_gatol must be positive");
  configured_gatol_ = gatol_;
}

// The Newton systems are solved by CG (TAO nls's default, Steihaug–Toint CG, took 1.4× the
// iterations with the circulant PC, tomography N = 128) unless -lower_tao_<type>_ksp_type says
// otherwise; a negative curvature makes nls take a gradient step, the safe path for non-convex
// experts.
void LowerSolver::choose_default_solvers() {
  KSP ksp = newton_ksp();
  PetscBool is_nls = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)tao_.get(), TAONLS, &is_nls));
  if (ksp && is_nls) BILEARN_CHECK(KSPSetType(ksp, KSPCG));
}

// The TAO type -lower_tao_type names and the PC of its Newton KSP are set before TaoSetFromOptions
// reads the options, so that -help prints the preconditioner in force: PC circulant
// (docs/algorithms.md §4.5; PETSc's default, ILU, cannot work on a MatShell) unless
// -lower_tao_<type>_pc_type chooses one; none when -lower_tao_<type>_ksp_type names a recycling
// type (rminres, rcg: no PC unless one is chosen). An unknown TAO type name is left to
// TaoSetFromOptions, which reports it.
void LowerSolver::preset_from_options() {
  char name[256] = "";
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsGetString(nullptr, "lower_", "-tao_type", name, sizeof(name), &set));
  if (set) {
    PetscErrorCode (*create)(Tao) = nullptr;
    BILEARN_CHECK(PetscFunctionListFind(TaoList, name, &create));
    if (create) BILEARN_CHECK(TaoSetType(tao_, name));
  }
  KSP ksp = newton_ksp();
  if (!ksp) return;
  const char* prefix = nullptr;
  BILEARN_CHECK(KSPGetOptionsPrefix(ksp, &prefix));
  PetscBool chosen = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, prefix, "-pc_type", &chosen));
  if (chosen) return;
  char ksp_type[256] = "";
  BILEARN_CHECK(PetscOptionsGetString(nullptr, prefix, "-ksp_type", ksp_type, sizeof(ksp_type), &set));
  const bool recycling = set && (std::strcmp(ksp_type, KSPRMINRES) == 0 || std::strcmp(ksp_type, KSPRCG) == 0);
  PC pc;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, recycling ? PCNONE : PCCIRCULANT));
}

// After TaoSetFromOptions: a Newton KSP that is not recycling and whose PC the user did not choose
// has PC circulant (preset_from_options set it already unless the options changed the KSP).
void LowerSolver::use_default_pc_unless_chosen() {
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
  PetscBool circulant = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)pc, PCCIRCULANT, &circulant));
  if (circulant) return;
  BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
  BILEARN_CHECK(PCSetFromOptions(pc));  // -lower_tao_<type>_pc_circulant_*
}

PetscReal LowerSolver::forcing_term(PetscReal gnorm, PetscReal previous_gnorm, PetscReal previous_eta,
                                    PetscReal tolerance) const {
  PetscReal eta = first_rtol_;
  if (previous_gnorm > 0 && gnorm > 0) {
    const PetscReal ratio = gnorm / previous_gnorm;
    eta = ew_gamma_ * std::pow(ratio, ew_alpha_);
    const PetscReal safeguard = ew_gamma_ * std::pow(previous_eta, ew_alpha_);
    if (safeguard > 0.1) eta = std::max(eta, safeguard);
    eta = std::min(eta, ew_max_);
    eta = std::max(eta, ew_min_);
  }
  // No oversolving: the Newton step need not reduce ‖∇Φ‖ far below the tolerance.
  if (gnorm > 0) eta = std::max(eta, 0.5 * tolerance / gnorm);
  return std::min(eta, ew_max_);
}

bool LowerSolver::set_block_forcing(KSP ksp) {
  const PetscInt B = objective_.blocks();
  PetscBool lockstep = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)ksp, KSPLOCKSTEPCG, &lockstep));
  if (B < 2 || !lockstep) return false;
  Vec g = nullptr;
  BILEARN_CHECK(TaoGetGradient(tao_, &g, nullptr, nullptr));
  const size_t nb = static_cast<size_t>(B);
  block_dots(objective_.comm(), B, {{g, g}}, block_gnorm_);  // ‖∇Φ_s‖²
  block_previous_gnorm_.resize(nb, -1.0);
  block_previous_eta_.resize(nb, 0.0);
  // The batch stops when every ‖∇Φ_s‖ ≤ stop_at_[s] (batch_convergence_test): a sample there has
  // done its share and takes no Newton step (its CG does not iterate); the others aim at it.
  for (size_t s = 0; s < nb; ++s) {
    const PetscReal gnorm = std::sqrt(block_gnorm_[s]);
    block_previous_eta_[s] =
        gnorm <= stop_at_[s] ? 1.0 : forcing_term(gnorm, block_previous_gnorm_[s], block_previous_eta_[s], stop_at_[s]);
    block_previous_gnorm_[s] = gnorm;
  }
  BILEARN_CHECK(KSPLockstepCGSetBlockTolerances(ksp, block_previous_eta_.data()));  // this step's terms
  return true;
}

// stop_at_ = tolerance_ per sample, or with require_progress(f) min(tolerance_, f·‖∇Φ_s(x₀)‖)
// (one more evaluation of Φ and ∇Φ at the warm start), never below `tightest` (the configured
// accuracy, which solves reach: f·‖∇Φ_s(x₀)‖ of a tightly solved x₀ may lie on the rounding
// floor). TAO's own test on the stacked norm gets the smallest, which implies every sample's; a
// batch also has batch_convergence_test.
void LowerSolver::set_stopping_tolerances(Vec x, PetscReal tightest) {
  const PetscInt B = objective_.blocks();
  stop_at_.assign(static_cast<size_t>(B), tolerance_);
  const PetscReal factor = progress_factor_;
  progress_factor_ = 0;
  if (factor > 0) {
    if (!gradient_work_) BILEARN_CHECK(VecDuplicate(x, gradient_work_.out()));
    objective_.value_and_gradient(x, theta_, gradient_work_);
    block_dots(objective_.comm(), B, {{gradient_work_, gradient_work_}}, block_gnorm_);
    for (size_t s = 0; s < stop_at_.size(); ++s) {
      const PetscReal g0 = std::sqrt(block_gnorm_[s]);
      if (std::isfinite(g0)) stop_at_[s] = std::clamp(factor * g0, std::min(tightest, tolerance_), tolerance_);
    }
  }
  BILEARN_CHECK(TaoSetTolerances(tao_, *std::min_element(stop_at_.begin(), stop_at_.end()), 0.0, 0.0));
}

void LowerSolver::begin_newton_step() {
  KSP ksp = newton_ksp();
  if (!ksp || !ew_forcing_) return;
  if (set_block_forcing(ksp)) return;
  PetscInt its;
  PetscReal f, gnorm, cnorm, xdiff;
  TaoConvergedReason reason;
  BILEARN_CHECK(TaoGetSolutionStatus(tao_, &its, &f, &gnorm, &cnorm, &xdiff, &reason));
  const PetscReal eta = forcing_term(gnorm, previous_gnorm_, previous_eta_, stop_at_.front());
  BILEARN_CHECK(KSPSetTolerances(ksp, eta, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT));
  previous_gnorm_ = gnorm;
  previous_eta_ = eta;
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

LowerSolveResult LowerSolver::solve(Vec x, const std::vector<PetscReal>& theta) {
  objective_.regulariser().check_theta(theta);
  theta_ = theta;
  log::ScopedStage stage(log::stages().lower);
  log::ScopedEvent event(log::events().lower_solve);
  const PetscInt products_before = objective_.hessian_products();
  // Like a KSP's max(rtol‖b‖, atol): an absolute gatol alone is below rounding for large
  // images (‖Aᵀy‖ = 2.7e6 at N = 256) and above what small ones need.
  const PetscReal data_scale = gradient_rtol_ * objective_.data_gradient_norm();
  tolerance_ = std::max(gatol_, data_scale);
  set_stopping_tolerances(x, std::max(configured_gatol_, data_scale));
  BILEARN_CHECK(TaoSetSolution(tao_, x));
  previous_gnorm_ = -1;
  block_previous_gnorm_.clear();
  block_previous_eta_.clear();
  nonfinite_ = false;
  // The dual variable lives for this solve only; afterwards H is the true Hessian again.
  struct DualNewtonScope {
    LowerProblem& objective;
    explicit DualNewtonScope(LowerProblem& o, bool on) : objective(o) {
      if (on) objective.begin_dual_newton();
    }
    ~DualNewtonScope() { objective.end_dual_newton(); }
  } dual_scope(objective_, dual_newton_);
  const PetscErrorCode ierr = TaoSolve(tao_);
  drop_tao_shift(objective_.hessian());
  if (ierr) {
    try {
      throw_petsc(ierr, "TaoSolve(tao_)", __FILE__, __LINE__);
    } catch (const PetscFailure& e) {
      if (!nonfinite_) throw;  // Φ is reduced over the group: the same verdict on its ranks
      throw NumericalError(std::string("lower-level objective is Inf or NaN at this theta (") + e.what() + ")");
    }
  }
  LowerSolveResult result;
  PetscReal f, cnorm, xdiff;
  BILEARN_CHECK(
      TaoGetSolutionStatus(tao_, &result.iterations, &f, &result.gradient_norm, &cnorm, &xdiff, &result.reason));
  result.hessian_products = objective_.hessian_products() - products_before;
  event.end();
  if (result.reason <= 0 || !std::isfinite(result.gradient_norm)) {
    // A line-search stall at a point that meets the tolerance is still a solution.
    if (std::isfinite(result.gradient_norm) && result.gradient_norm <= tolerance_) return result;
    std::ostringstream msg;
    msg << "lower-level solve did not converge: TAO reason " << TaoConvergedReasons[result.reason] << " after "
        << result.iterations << " iterations, |grad Phi| = " << result.gradient_norm << " > tolerance " << tolerance_
        << " (try -lower_tao_max_it, -lower_tao_gatol, -lower_gradient_rtol or another -lower_tao_type)";
    throw NumericalError(msg.str());
  }
  return result;
}

}  // namespace bilearn
