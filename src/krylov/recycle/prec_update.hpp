// The next recycle space of a preconditioned solve (docs/algorithms.md §4.2 with §4.5): Ritz pairs of
// M⁻¹H, i.e. H y = λ M y on the candidate W = [Ũ_cand, Z̃_cycle] (Rayleigh–Ritz in the M-inner
// product), in cycles of at most m vectors like the unpreconditioned update. M (the operator
// whose inverse the PC applies) is never applied: every candidate vector x is stored with
//     M x = x_r + M U γ_x        (x_r an explicit vector, γ_x ∈ R^s, U the prepared space),
// which holds for U itself (x_r = 0, γ = e_j) and for the deflated preconditioned vectors of the
// iteration, z̃ = M⁻¹r − U g (x_r = r, γ = −g), and is preserved by linear combinations. Then
//     yᵀ M x = yᵀ x_r + (y_rᵀ U + γ_yᵀ UᵀMU) γ_x,
// with UᵀMU carried with the space (RecycleSpace::metric). H x is stored explicitly (H U = C,
// H z̃ from the iteration's products), so WᵀHW and WᵀMW cost three blocked reductions per cycle and
// no product with H, M or M⁻¹; the products H·Ũ_next come with the space (carried C).
// Only the Ritz selectors (ritz_s, ritz_l, ritz_both) are defined in this form.
#pragma once
#include <petscvec.h>

#include <vector>

#include "krylov/recycle/dense.hpp"
#include "krylov/recycle/selector.hpp"
#include "krylov/recycle/vec_block.hpp"

namespace bilearn::krylov {

class RecycleSpace;

class PrecUpdater {
 public:
  // Candidate blocks (k each: X, X_r, H X) and cycle buffers (m each: z̃, r, H z̃, plus two).
  void allocate(Vec tmpl, PetscInt k, PetscInt m);
  void free_storage() noexcept;
  PetscInt stored_vectors() const noexcept {
    return x_.capacity() + xr_.capacity() + hx_.capacity() + zb_.capacity() + rb_.capacity() + hb_.capacity();
  }

  // Starts recording a solve with the prepared space (U, C = HU). Without a known UᵀMU (a space
  // seeded from outside) U is left out of the first cycle's candidate and the Gram matrix of
  // the z̃ omits their U-part (γᵀ UᵀMU γ ≥ 0): an approximation used once, until the next space.
  void begin(RecycleSpace& space, Selector sel, PetscInt k, bool first_window);
  bool recording() const noexcept { return recording_ && !window_closed_; }
  // Where the caller writes the next z̃_j (null when not recording).
  Vec slot();
  // Completes the slot: M z̃_j = r − M U g and H z̃_j = hz − coef·hz_{j−1} (hz of the previous
  // record, before scaling by its own scale); all three are scaled by `scale` (use 1/‖z̃‖_M
  // estimates to keep the small problem well conditioned; coef refers to the scaled vectors).
  void record(Vec r, Vec hz, PetscReal scale, PetscReal coef, const PetscScalar* g);
  // Ends the solve; returns true if a candidate (at most k vectors) was built.
  bool finish();
  void abort() noexcept { recording_ = false; }

  VecBlock& candidate() noexcept { return x_; }
  VecBlock& candidate_hu() noexcept { return hx_; }
  PetscInt candidate_dim() const noexcept { return kc_; }
  const Dense& candidate_metric() const noexcept { return gxx_; }  // X_candᵀ M X_cand
  PetscInt cycles() const noexcept { return cycles_; }

 private:
  void run_cycle();

  VecBlock x_, xr_, hx_, zb_, rb_, hb_;
  PetscInt kcap_ = 0, mcap_ = 0;
  RecycleSpace* space_ = nullptr;
  Selector sel_ = Selector::RitzBoth;
  PetscInt k_ = 0, s_ = 0;
  bool recording_ = false, first_window_ = false, window_closed_ = false, metric_known_ = false;
  bool first_ = true, have_prev_ = false;
  PetscInt count_ = 0, kc_ = 0, cycles_ = 0;
  bool slot_open_ = false;
  std::vector<PetscReal> coef_;
  PetscReal prev_scale_ = 1.0;
  Dense guu_;  // UᵀMU
  Dense gz_;   // s × m: γ of the cycle's z̃
  Dense gx_;   // s × kc: γ of the candidate
  Dense gxx_;  // candidate's M-Gram matrix
};

}  // namespace bilearn::krylov
