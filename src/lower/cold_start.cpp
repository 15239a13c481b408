#include "bilearn/lower/cold_start.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {
namespace {

// θ with δ added to the entries that are log10 weights (param_names "log10 w…"): stronger
// regularisation; shape parameters (log10 γ, filter coefficients) stay.
std::vector<PetscReal> stronger_weights(const Regulariser& reg, const std::vector<PetscReal>& theta, PetscReal shift) {
  std::vector<PetscReal> shifted = theta;
  const std::vector<std::string> names = reg.param_names();
  for (size_t i = 0; i < shifted.size() && i < names.size(); ++i)
    if (names[i].rfind("log10 w", 0) == 0) shifted[i] += shift;
  return shifted;
}

}  // namespace

ColdStart::ColdStart(MPI_Comm comm) {
  OptionsBlock options(comm, "", "Lower-level cold start (continuation in theta)");
  shift_ = options.real("-lower_continuation",
                        "a solve from x = 0 first minimises at log10 weights + this shift (0: off)", 1.0, 0.0, 10.0);
  rtol_ = options.real("-lower_continuation_rtol",
                       "relative gradient tolerance of that first stage, against |grad Phi(0)|", 1e-3, 1e-12, 0.5);
}

LowerSolveResult ColdStart::prepare(LowerSolver& solver, const std::vector<PetscReal>& theta, Vec x, Vec work) const {
  LowerSolveResult stage;
  if (!enabled()) return stage;
  PetscReal xnorm;
  BILEARN_CHECK(VecNorm(x, NORM_2, &xnorm));
  if (xnorm != 0) return stage;
  const std::vector<PetscReal> stronger = stronger_weights(solver.objective().regulariser(), theta, shift_);
  const PetscReal gatol = solver.gradient_tolerance();
  PetscReal g0;
  solver.objective().value_and_gradient(x, stronger, work);
  BILEARN_CHECK(VecNorm(work, NORM_2, &g0));
  try {
    if (rtol_ * g0 > gatol) {
      solver.set_gradient_tolerance(rtol_ * g0);
      stage = solver.solve(x, stronger);
    }
  } catch (const NumericalError&) {
    // TAO is collective over the group: every rank lands here. The stage only prepares a
    // start; the solve at θ then starts from zero as without it.
    BILEARN_CHECK(VecSet(x, 0.0));
  }
  solver.set_gradient_tolerance(gatol);
  return stage;
}

}  // namespace bilearn
