// Hands the structure of the lower-level Hessian to a recycling KSP (types rminres/rcg;
// a no-op for any other type):
//   - the split H = F + R_t with F = AᵀA + εI fixed, so the recycle space carries F·U and
//     recomputes only R_t·U per system (ALGORITHMS.md §4.2, "cheaper C");
//   - the mixed derivative J = ∂_θ∇_xΦ (p × n), which the rgen selectors and NSC need (§4.2–4.3).
// The objective must outlive the KSP's use of these (they reference it, not copy it).
#pragma once
#include <petscksp.h>

#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

void share_hessian_structure(KSP ksp, LowerObjective& objective);

// True when the KSP is one of the recycling types (rminres, rcg).
bool is_recycling_ksp(KSP ksp);

}  // namespace bilearn
