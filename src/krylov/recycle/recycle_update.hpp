// Building the next recycle space while a solve runs (docs/algorithms.md §4.2), in cycles of at
// most m Lanczos vectors: at the end of each cycle the candidate basis W = [Ũ_cand, V_cycle] is
// reduced to k vectors by the selector and the cycle's vectors are released. Nothing here applies
// H: WᵀHW, (HW)ᵀ(HW) and H·Ũ_cand follow from the Lanczos relation of the projected operator
//     H v_j = C h_j + β_j v_{j−1} + α_j v_j + β_{j+1} v_{j+1}        (v_j ⟂ C)
// and from HU = C. Explicit inner products per cycle: Uᵀ V_cycle (one reduction). J is applied
// to the cycle's vectors only for the J-aware selectors (and to the final candidate for NSC).
#pragma once
#include <petscvec.h>

#include <vector>

#include "krylov/recycle/dense.hpp"
#include "krylov/recycle/selector.hpp"
#include "krylov/recycle/vec_block.hpp"

namespace bilearn::krylov {

class RecycleSpace;

// J (p × n) as a callback computing the p numbers J v on every rank (collective).
struct MixedOperator {
  PetscInt p = 0;
  PetscErrorCode (*mult)(void* ctx, Vec v, PetscReal* jv) = nullptr;
  void* ctx = nullptr;
  bool available() const noexcept { return mult != nullptr && p > 0; }
};

struct UpdateSettings {
  Selector selector = Selector::RitzBoth;
  PetscInt k = 20;            // dimension of the next space
  PetscInt m = 40;            // Lanczos vectors per cycle
  bool carry_hu = true;       // build H·Ũ_next from the Lanczos relation (no applies at the next prepare)
  PetscInt k_nsc = 0;         // > 0: build the NSC block Z with this many columns at the end
  bool first_window = false;  // use only the first m Lanczos vectors (one selection per solve)
};

struct UpdateStats {
  PetscInt cycles = 0;
  PetscInt j_applies = 0;
  PetscInt candidate_dim = 0;
  PetscInt nsc_dim = 0;
};

class RecycleUpdater {
 public:
  // Allocates the candidate blocks (k), the cycle buffer (m + 2) and the NSC block (k_nsc) on
  // tmpl's layout; a no-op when nothing changed.
  void allocate(Vec tmpl, PetscInt k, PetscInt m, PetscInt k_nsc);
  void free_storage() noexcept;

  // Starts recording a solve that uses the prepared space (U, C; dimension space.dim()).
  void begin(RecycleSpace& space, const UpdateSettings& settings, const MixedOperator* j);
  // v_j = scale·x is the next Lanczos vector (copied into the cycle buffer).
  void push(Vec x, PetscScalar scale);
  // Coefficients of the last pushed v_j: α_j, β_{j+1} and h_j = Cᵀ H v_j (dim entries).
  void set_coefficients(PetscReal alpha, PetscReal beta_next, const PetscScalar* h);
  // Ends the solve; v_{K+1} = scale·next closes the last cycle (next may be null if β_{K+1} = 0).
  // Returns true if a new candidate space was built (then take it with candidate()).
  bool finish(Vec next, PetscScalar scale);
  // Ends the solve without an update (breakdown, NaN).
  void abort() noexcept;

  VecBlock& candidate() noexcept { return ucand_; }
  VecBlock& candidate_hu() noexcept { return hucand_; }
  PetscInt candidate_dim() const noexcept { return sc_; }
  bool candidate_hu_valid() const noexcept { return settings_.carry_hu; }

  // NSC block Z for the next solve (valid after a finish that built it).
  PetscInt nsc_dim() const noexcept { return nz_; }
  Vec* nsc_z() noexcept { return z_.data(); }
  void drop_nsc() noexcept { nz_ = 0; }

  const UpdateStats& stats() const noexcept { return stats_; }
  PetscInt stored_vectors() const noexcept {
    return ucand_.capacity() + hucand_.capacity() + vbuf_.capacity() + z_.capacity();
  }
  const Selection& last_selection() const noexcept { return last_; }

 private:
  void run_cycle(PetscInt mc, bool have_boundary, bool final_cycle);
  void run_cycle_body(PetscInt mc, bool have_boundary, bool final_cycle);
  void apply_j(Vec v, PetscReal* out);

  VecBlock ucand_, hucand_, vbuf_, z_;
  PetscInt kcap_ = 0, mcap_ = 0, zcap_ = 0;
  RecycleSpace* space_ = nullptr;
  const MixedOperator* j_ = nullptr;
  UpdateSettings settings_;
  UpdateStats stats_;
  bool recording_ = false;

  // cycle buffer: slot 0 = v_{a−1}, slots 1..count = v_a.., slot count+1 = v_{b+1}
  PetscInt count_ = 0, coef_count_ = 0;
  bool window_closed_ = false;  // first-window mode: v_1..v_m and v_{m+1} recorded, the rest ignored
  bool has_prev_ = false;
  PetscReal beta_a_ = 0;  // coefficient of v_{a−1} in H v_a
  std::vector<PetscReal> alpha_, beta_next_;
  Dense b_;  // s × m: h_j columns

  // candidate state (see recycle_update.cpp)
  bool first_ = true;
  PetscInt s_ = 0, sc_ = 0, nz_ = 0;
  Dense gc_, ac_, kc_, q1_, e_, yu_, juc_;
  Selection last_;
};

}  // namespace bilearn::krylov
