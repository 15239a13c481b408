// The recycle space of a sequence of symmetric systems H_t x = g_t (docs/algorithms.md §4.1):
// a basis Ũ (up to k vectors) carried from one system to the next and, after prepare(H),
// U and C = H U with CᵀC = I for the current H. Storage is two blocks of k vectors allocated
// once; Ũ becomes U and HŨ becomes C in place.
//
// C is always computed with the current H: from the carried product H_{t}Ũ only when the
// operator is the very same (same Mat, same object state), from a carried F·Ũ plus R·Ũ when
// the caller declared a split H = F + R with F unchanged, and with k operator applies otherwise.
// prepare() detects a space of another layout, NaN/Inf in Ũ (reset) and nearly dependent
// columns (dropped), and reports what it did so the caller can say so.
#pragma once
#include <petscmat.h>

#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "krylov/recycle/dense.hpp"
#include "krylov/recycle/vec_block.hpp"

namespace bilearn::krylov {

struct PrepareReport {
  PetscInt input_dim = 0;         // columns of Ũ before prepare
  PetscInt dim = 0;               // columns kept
  PetscInt dropped = 0;           // nearly dependent or zero columns dropped
  bool reset = false;             // the whole space was discarded (layout mismatch, NaN/Inf)
  PetscInt operator_applies = 0;  // products with H
  PetscInt varying_applies = 0;   // products with the varying part R of a split
  const char* source = "none";    // where C̃ came from: none, carried, split, apply
  std::string message;            // one line when something was reset or dropped, else empty
};

struct PrepareTolerances {
  PetscReal rank = 1e-8;      // drop a column of C̃ whose norm falls below this fraction in the QR
  PetscReal carried = 1e-5;   // the same for a carried C̃, and the norm below which its carried product is
                              // noise (applied afresh); above 1e-2 nothing carried is used
  PetscReal collapse = 1e-5;  // a column of an updated Ũ below this norm (relative) is rounding noise: dropped
  PetscReal probe = 1e-10;    // a carried C̃ whose probe H z − C̃ w has a larger relative error is recomputed
                              // (0: no probe)
};

class RecycleSpace {
 public:
  enum class Carried { None, Full, Fixed };

  RecycleSpace() = default;

  void set_capacity(PetscInt k);  // keeps the first min(dim, k) columns
  PetscInt capacity() const noexcept { return kmax_; }
  PetscInt stored_vectors() const noexcept { return u_.capacity() + c_.capacity() + fu_.capacity(); }
  PetscInt dim() const noexcept { return dim_; }
  bool prepared() const noexcept { return prepared_; }

  // Copies n vectors in as the next Ũ (any layout: checked by prepare). Carried products are dropped.
  void set_basis(PetscInt n, const Vec* vecs);
  // Copies another space's next Ũ and, when it carries F·Ũ for a split, those products too
  // (so the receiver recomputes only R·Ũ if it declares the same F).
  void copy_from(const RecycleSpace& other);
  // Checkpoint state: the carried F·Ũ (null unless a split product is carried) and whether Ũ
  // was built by the update; restore() puts both back (fu may be null; fixed: the split's F).
  const Vec* fixed_products() const noexcept { return carried_ == Carried::Fixed ? c_.data() : nullptr; }
  bool from_update() const noexcept { return from_update_; }
  void restore(PetscInt n, const Vec* vecs, const Vec* fu, Mat fixed, bool from_update);
  // Discards the space (storage kept).
  void reset() noexcept;
  // Frees the storage (KSPReset); the next use reallocates.
  void free_storage() noexcept;

  // Makes U, C for the operator H (tmpl: a vector of H's layout; work: one scratch vector).
  // fixed/varying: the split H = F + R if the caller declared one (else null).
  // keep_fixed: when C̃ comes from the split, also keep F·U (transformed like U) so that a
  // space reused unchanged after the solve carries F·U without R applies (keep_after_solve).
  PrepareReport prepare(Mat h, Mat fixed, Mat varying, Vec tmpl, Vec work, const PrepareTolerances& tol,
                        bool keep_fixed = false);

  // t = Cᵀr; x += U t; r -= C t (after prepare). t must hold dim() entries.
  void project(Vec x, Vec r, PetscScalar* t);

  const Vec* u() const noexcept { return u_.data(); }
  const Vec* c() const noexcept { return c_.data(); }
  Vec* u() noexcept { return u_.data(); }
  Vec* c() noexcept { return c_.data(); }

  // ‖CᵀC − I‖_F (collective; after prepare).
  PetscReal orthogonality_loss() const;

  // After a solve with operator h: the prepared U (with C = hU) becomes the next Ũ unchanged.
  // With F·U kept by prepare (keep_fixed) and fixed = that F, it carries F·U instead of H·U.
  void keep_after_solve(Mat h, Mat fixed = nullptr);
  // After a solve: the next Ũ is taken from ucand (n columns) by swapping storage with it;
  // hucand holds h·Ũ if hu_valid.
  void adopt(VecBlock& ucand, VecBlock& hucand, PetscInt n, bool hu_valid, Mat h);
  // Converts a carried H·Ũ into F·Ũ = H·Ũ − R·Ũ for a declared split (R applies, one per column).
  PetscInt convert_to_fixed(Mat fixed, Mat varying, Vec work);

  // The M-Gram matrix of the basis for a preconditioned update (M the SPD preconditioner's
  // inverse operator, never applied): set for the next Ũ after adopt(), transformed by prepare()
  // into UᵀMU of the prepared U, and dropped by everything that brings vectors in from outside.
  void set_metric(const Dense& g);
  const Dense* metric() const noexcept { return metric_valid_ ? &metric_ : nullptr; }

  Carried carried() const noexcept { return carried_; }
  // Storage layout template (null before first allocation).
  Vec storage_template() const noexcept { return u_.allocated() ? u_[0] : nullptr; }
  void ensure_storage(Vec tmpl);  // allocates or re-allocates (discarding content) on tmpl's layout

 private:
  void set_carried(Carried kind, Mat m);
  bool carried_matches(Mat m) const;
  // ‖H z − C̃ w‖ / ‖C̃ w‖ for z = Ũ w, w_j = ±1/‖C̃_j‖ over the columns not skipped (one apply).
  PetscReal carried_probe_error(Mat h, Vec work, const std::vector<char>& skip);

  VecBlock u_, c_;
  VecBlock fu_;            // F·U of a split preparation (only with keep_fixed)
  bool fu_valid_ = false;  // fu_ holds F·U for the prepared U
  OwnedVec probe_;         // z and C̃ w of the carried-product probe
  PetscInt kmax_ = 0, dim_ = 0;
  bool prepared_ = false;
  bool from_update_ = false;  // Ũ was built by the update (unit norms in its model), not given
  Carried carried_ = Carried::None;
  PetscObjectState carried_state_ = 0;
  PetscObjectId carried_id_ = 0;
  Dense r_;       // R of the QR, kmax × kmax
  Dense metric_;  // ŨᵀMŨ (before prepare) or UᵀMU (after)
  bool metric_valid_ = false;
};

}  // namespace bilearn::krylov
