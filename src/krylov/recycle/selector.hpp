// Selection of the next recycle space from a candidate basis W (docs/algorithms.md §4.2): the small
// dense problem only. W itself is never formed here: the caller hands the Gram matrix WᵀW, the
// projected operator WᵀHW and, when the selector needs them, (HW)ᵀ(HW) and J W; the result is
// the coefficient block Y (new Ũ = W Y) and, for NSC (§4.3), Z = W Q_H[:, s] Γ_s as coefficients.
#pragma once
#include <string>
#include <vector>

#include "krylov/recycle/dense.hpp"

namespace bilearn::krylov {

enum class Selector { RitzS, RitzL, RitzBoth, HRitzS, HRitzL, RgenL, RgenS, RgenLLeft };

const std::vector<std::string>& selector_names();  // in enum order: ritz_s, ritz_l, ...
Selector parse_selector(const std::string& name);  // throws InputError on unknown names
const char* selector_name(Selector s);
bool selector_needs_j(Selector s);         // rgen_*
bool selector_needs_harmonic(Selector s);  // hritz_*

struct SmallProblem {
  Dense G;   // WᵀW (n_w × n_w), symmetric positive semi-definite
  Dense A;   // WᵀHW, symmetric
  Dense K;   // (HW)ᵀ(HW): harmonic selectors only
  Dense JW;  // J W (p × n_w): rgen selectors and NSC only
};

struct Selection {
  Dense y;                        // n_w × k_new, each column scaled so that ‖W y‖ = 1
  std::vector<PetscReal> values;  // ranking value of each kept column: Ritz value, harmonic Ritz value or γ
  Dense z;                        // n_w × k_z NSC coefficients (Z = W z); empty unless k_nsc > 0 and J given
  std::vector<PetscReal> gammas;  // γ of the NSC columns
  PetscInt rank = 0;              // numerical rank of W (columns of W whose Gram eigenvalue passed gram_tol)
};

// k: number of columns wanted (fewer if rank(W) < k). k_nsc: number of largest-γ directions for
// the NSC estimate (0: none). gram_tol: W is orthonormalised implicitly through the eigenvectors of
// WᵀW; eigenvalues below gram_tol·λ_max are treated as dependent directions and dropped.
// Ritz and harmonic Ritz values are ranked by magnitude (H may be indefinite).
Selection select_space(const SmallProblem& p, Selector sel, PetscInt k, PetscInt k_nsc, PetscReal gram_tol = 1e-12);

}  // namespace bilearn::krylov
