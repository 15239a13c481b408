// Hands the structure of the lower-level Hessian to a KSP: to the recycling types (rminres/rcg)
// and to the circulant PC (no-ops for other types):
//   - the split H = F + R_t with F = AᵀA + εI fixed, so the recycle space carries F·U and
//     recomputes only R_t·U per system (docs/algorithms.md §4.2, "cheaper C");
//   - the mixed derivative J = ∂_θ∇_xΦ (p × n), which the rgen selectors and NSC need (§4.2–4.3);
//   - for PC circulant, the image grid and the same split: the symbol of F is estimated once,
//     that of R_t whenever the point moves (§4.5).
// Call it after KSPSetFromOptions (the types are known then).
// The objective must outlive the KSP's use of these (they reference it, not copy it).
#pragma once
#include <petscksp.h>

#include "bilearn/lower/lower_objective.hpp"

namespace bilearn {

void share_hessian_structure(KSP ksp, LowerObjective& objective);
// The PC part alone (PC circulant: grid, split, kernel hint; a no-op for other types).
void share_pc_structure(PC pc, LowerObjective& objective);

// True when the KSP is one of the recycling types (rminres, rcg).
bool is_recycling_ksp(KSP ksp);

}  // namespace bilearn
