#include "krylov/recycle/recycle_space.hpp"

#include <petsc/private/petscimpl.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {

void RecycleSpace::ensure_storage(Vec tmpl) {
  if (u_.allocated() && u_.capacity() == kmax_ && same_layout(u_[0], tmpl)) return;
  u_.allocate(tmpl, kmax_);
  c_.allocate(tmpl, kmax_);
  probe_.reset();
  r_.resize(kmax_, kmax_);
  reset();
}

void RecycleSpace::set_capacity(PetscInt k) {
  if (k == kmax_) return;
  const PetscInt keep = std::min(dim_, k);
  if (u_.allocated() && k > 0) {
    VecBlock nu, nc;
    nu.allocate(u_[0], k);
    nc.allocate(u_[0], k);
    for (PetscInt j = 0; j < keep; ++j) {
      BILEARN_CHECK(VecCopy(u_[j], nu[j]));
      BILEARN_CHECK(VecCopy(c_[j], nc[j]));
    }
    u_.swap(nu);
    c_.swap(nc);
  } else {
    u_.clear();
    c_.clear();
  }
  kmax_ = k;
  fu_.clear();
  fu_valid_ = false;
  r_.resize(kmax_, kmax_);
  metric_valid_ = false;
  dim_ = k > 0 && u_.allocated() ? keep : 0;
  if (prepared_ && dim_ < keep) prepared_ = false;
}

void RecycleSpace::set_basis(PetscInt n, const Vec* vecs) {
  from_update_ = false;
  n = std::min(n, kmax_);
  if (n <= 0) {
    reset();
    return;
  }
  if (!u_.allocated() || !same_layout(u_[0], vecs[0])) {
    u_.allocate(vecs[0], kmax_);
    c_.allocate(vecs[0], kmax_);
    r_.resize(kmax_, kmax_);
  }
  for (PetscInt j = 0; j < n; ++j) BILEARN_CHECK(VecCopy(vecs[j], u_[j]));
  dim_ = n;
  prepared_ = false;
  fu_valid_ = false;
  metric_valid_ = false;
  set_carried(Carried::None, nullptr);
}

void RecycleSpace::restore(PetscInt n, const Vec* vecs, const Vec* fu, Mat fixed, bool from_update) {
  set_basis(n, vecs);
  from_update_ = from_update;
  if (dim_ == 0 || !fu || !fixed) return;
  for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecCopy(fu[j], c_[j]));
  set_carried(Carried::Fixed, fixed);
}

void RecycleSpace::copy_from(const RecycleSpace& other) {
  set_basis(other.dim_, other.u_.data());
  from_update_ = other.from_update_;
  if (dim_ == 0 || other.carried_ != Carried::Fixed) return;
  for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecCopy(other.c_[j], c_[j]));
  carried_ = Carried::Fixed;
  carried_id_ = other.carried_id_;
  carried_state_ = other.carried_state_;
}

void RecycleSpace::reset() noexcept {
  dim_ = 0;
  metric_valid_ = false;
  prepared_ = false;
  fu_valid_ = false;
  carried_ = Carried::None;
  carried_id_ = 0;
  carried_state_ = 0;
}

void RecycleSpace::free_storage() noexcept {
  u_.clear();
  c_.clear();
  fu_.clear();
  reset();
}

void RecycleSpace::set_metric(const Dense& g) {
  metric_valid_ = dim_ > 0 && g.rows() == dim_ && g.cols() == dim_;
  if (metric_valid_) metric_ = g;
}

void RecycleSpace::set_carried(Carried kind, Mat m) {
  carried_ = m ? kind : Carried::None;
  carried_id_ = 0;
  carried_state_ = 0;
  if (m) {
    BILEARN_CHECK(PetscObjectGetId((PetscObject)m, &carried_id_));
    BILEARN_CHECK(PetscObjectStateGet((PetscObject)m, &carried_state_));
  }
}

bool RecycleSpace::carried_matches(Mat m) const {
  if (!m) return false;
  PetscObjectId id = 0;
  PetscObjectState state = 0;
  BILEARN_CHECK(PetscObjectGetId((PetscObject)m, &id));
  BILEARN_CHECK(PetscObjectStateGet((PetscObject)m, &state));
  return id == carried_id_ && state == carried_state_;
}

PrepareReport RecycleSpace::prepare(Mat h, Mat fixed, Mat varying, Vec tmpl, Vec work, const PrepareTolerances& tol,
                                    bool keep_fixed) {
  PrepareReport rep;
  rep.input_dim = dim_;
  prepared_ = false;
  fu_valid_ = false;
  if (kmax_ <= 0) {
    dim_ = 0;
    return rep;
  }
  if (dim_ == 0) {
    ensure_storage(tmpl);
    prepared_ = true;
    return rep;
  }
  // A space built for another problem (different size or distribution) is useless: reset.
  if (!same_layout(u_[0], tmpl)) {
    PetscInt nold = 0, nnew = 0;
    BILEARN_CHECK(VecGetSize(u_[0], &nold));
    BILEARN_CHECK(VecGetSize(tmpl, &nnew));
    std::ostringstream msg;
    msg << "recycle space discarded: its " << dim_ << " vectors have " << nold
        << " rows (or another distribution) but the operator has " << nnew;
    rep.message = msg.str();
    rep.reset = true;
    rep.dim = 0;
    u_.clear();
    ensure_storage(tmpl);
    prepared_ = true;
    return rep;
  }
  // Norms of all columns of Ũ in one reduction; NaN/Inf anywhere resets the space.
  std::vector<PetscReal> norms(static_cast<size_t>(dim_), 0.0);
  for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecNormBegin(u_[j], NORM_2, &norms[static_cast<size_t>(j)]));
  for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecNormEnd(u_[j], NORM_2, &norms[static_cast<size_t>(j)]));
  for (PetscReal nj : norms)
    if (!std::isfinite(nj)) {
      rep.message = "recycle space discarded: its vectors contain NaN or Inf";
      rep.reset = true;
      reset();
      prepared_ = true;
      return rep;
    }
  // Normalise Ũ (and a carried product with it) so the rank test sees directions, not scales.
  PetscReal nmax = 0;
  for (PetscReal nj : norms) nmax = std::max(nmax, nj);
  // A carried product is good to about its carried tolerance (below); when the solve needs
  // better than 1e-2 of that, carrying cannot serve it and C̃ is applied.
  const bool carry_usable = tol.carried <= 1e-2;
  const bool use_carried = carry_usable && carried_ == Carried::Full && carried_matches(h);
  const bool use_split = carry_usable && carried_ == Carried::Fixed && fixed && varying && carried_matches(fixed);
  // The update builds Ũ = W Y with unit norms in a model that takes the Lanczos vectors as
  // orthonormal. Once Lanczos has lost orthogonality (ghost copies of a converged eigenvector),
  // a column can cancel to a tiny true norm. Below tol.collapse it is no longer a direction of
  // the model but rounding noise: dropped. Above, its carried product still keeps an absolute
  // error of about ε‖H‖, a relative error of ε‖H‖/‖Ũ_j‖ (measured up to 1e-4 on tomography):
  // below tol.carried, that product is recomputed by an apply of H.
  std::vector<char> collapsed(static_cast<size_t>(dim_), 0), recompute(static_cast<size_t>(dim_), 0);
  for (PetscInt j = 0; j < dim_; ++j) {
    const PetscReal rel = norms[static_cast<size_t>(j)] / nmax;
    collapsed[static_cast<size_t>(j)] = from_update_ && rel < tol.collapse;
    recompute[static_cast<size_t>(j)] =
        from_update_ && (use_carried || use_split) && !collapsed[static_cast<size_t>(j)] && rel < tol.carried;
  }
  // U = Ũ T: T follows every column operation so that UᵀMU = Tᵀ(ŨᵀMŨ)T when the metric is known.
  const bool track = metric_valid_;
  Dense t = Dense::identity(dim_);
  for (PetscInt j = 0; j < dim_; ++j) {
    const PetscReal nj = norms[static_cast<size_t>(j)];
    if (nj > 0) {
      t(j, j) = 1.0 / nj;
      BILEARN_CHECK(VecScale(u_[j], 1.0 / nj));
      if (carried_ != Carried::None) BILEARN_CHECK(VecScale(c_[j], 1.0 / nj));
    }
  }
  // C̃ = H Ũ for the current H.
  if (use_carried) {
    rep.source = "carried";
  } else if (use_split) {
    rep.source = "split";
    if (keep_fixed) {
      if (!fu_.allocated() || fu_.capacity() != kmax_ || !same_layout(fu_[0], u_[0])) fu_.allocate(u_[0], kmax_);
      for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecCopy(c_[j], fu_[j]));
      fu_valid_ = true;
    }
    for (PetscInt j = 0; j < dim_; ++j) {
      BILEARN_CHECK(MatMult(varying, u_[j], work));
      BILEARN_CHECK(VecAXPY(c_[j], 1.0, work));
    }
    rep.varying_applies = dim_;
  }
  bool apply = !use_carried && !use_split;  // C̃ by k applies of H (also when a carried C̃ fails its probe)
  if (!apply && tol.probe > 0) {
    // A safety net for everything the carried product cannot see (loss of orthogonality beyond
    // the collapsed columns, an F changed without a new object state): one apply of H.
    std::vector<char> skip(collapsed);
    for (size_t j = 0; j < skip.size(); ++j) skip[j] = skip[j] || recompute[j];
    const PetscReal err = carried_probe_error(h, work, skip);
    ++rep.operator_applies;
    if (!(err <= tol.probe)) {
      std::ostringstream msg;
      msg << "recycle space: carried H U failed its probe (relative error " << err << "), recomputed";
      rep.message = msg.str();
      apply = true;
    }
  }
  if (apply) {
    rep.source = "apply";
    fu_valid_ = false;
    for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(MatMult(h, u_[j], c_[j]));
    rep.operator_applies += dim_;
  } else {
    for (PetscInt j = 0; j < dim_; ++j) {
      if (!recompute[static_cast<size_t>(j)]) continue;
      BILEARN_CHECK(MatMult(h, u_[j], c_[j]));
      ++rep.operator_applies;
      if (fu_valid_) {  // F Ũ_j = H Ũ_j − R Ũ_j
        BILEARN_CHECK(MatMult(varying, u_[j], fu_[j]));
        BILEARN_CHECK(VecAYPX(fu_[j], -1.0, c_[j]));
        ++rep.varying_applies;
      }
    }
  }
  carried_ = Carried::None;
  // U = Ũ R⁻¹ and C = C̃ R⁻¹ amplify the error of C̃ by up to 1/r_jj, and a carried C̃ has a
  // larger error than a fresh apply: for it, nearly dependent columns are dropped earlier.
  const PetscReal drop_tol = apply ? tol.rank : std::max(tol.rank, tol.carried);

  // Thin QR C̃ = C R by classical Gram-Schmidt with one re-orthogonalisation (CGS2). Column j
  // is dropped when its norm after orthogonalisation falls below rank_tol times its norm before
  // (it lies in the span of the columns already kept), or when it is zero or not finite.
  std::vector<Vec> list(static_cast<size_t>(kmax_ + 1));
  std::vector<PetscScalar> h1(static_cast<size_t>(kmax_ + 1)), h2(static_cast<size_t>(kmax_ + 1));
  r_.set_zero();
  PetscInt kept = 0, zero_cols = 0, collapsed_cols = 0;
  for (PetscInt j = 0; j < dim_; ++j) {
    if (collapsed[static_cast<size_t>(j)]) {
      ++collapsed_cols;
      continue;
    }
    Vec cj = c_[j];
    for (PetscInt i = 0; i < kept; ++i) list[static_cast<size_t>(i)] = c_[i];
    list[static_cast<size_t>(kept)] = cj;
    // pass 1: h1 = Cᵀc̃, and ‖c̃‖² in the same reduction
    BILEARN_CHECK(VecMDot(cj, kept + 1, list.data(), h1.data()));
    const PetscReal before = std::sqrt(std::max<PetscReal>(PetscRealPart(h1[static_cast<size_t>(kept)]), 0.0));
    if (kept > 0) {
      for (PetscInt i = 0; i < kept; ++i) h1[static_cast<size_t>(i)] = -h1[static_cast<size_t>(i)];
      BILEARN_CHECK(VecMAXPY(cj, kept, h1.data(), list.data()));
    }
    // pass 2 (re-orthogonalisation), again with the norm in the same reduction
    BILEARN_CHECK(VecMDot(cj, kept + 1, list.data(), h2.data()));
    PetscReal sq = PetscRealPart(h2[static_cast<size_t>(kept)]);
    for (PetscInt i = 0; i < kept; ++i) sq -= PetscRealPart(h2[static_cast<size_t>(i)] * h2[static_cast<size_t>(i)]);
    const PetscReal rjj = std::sqrt(std::max<PetscReal>(sq, 0.0));
    const bool finite = std::isfinite(before) && std::isfinite(sq);
    if (!finite || before == 0 || !(rjj > drop_tol * before)) {
      if (!finite || before == 0) ++zero_cols;
      continue;  // dropped: column j stays behind the kept ones and is ignored
    }
    if (kept > 0) {
      for (PetscInt i = 0; i < kept; ++i) h2[static_cast<size_t>(i)] = -h2[static_cast<size_t>(i)];
      BILEARN_CHECK(VecMAXPY(cj, kept, h2.data(), list.data()));
    }
    BILEARN_CHECK(VecScale(cj, 1.0 / rjj));
    for (PetscInt i = 0; i < kept; ++i)
      r_(i, kept) = -PetscRealPart(h1[static_cast<size_t>(i)] + h2[static_cast<size_t>(i)]);
    r_(kept, kept) = rjj;
    c_.swap_columns(kept, j);
    u_.swap_columns(kept, j);
    if (track && kept != j)
      for (PetscInt i = 0; i < t.rows(); ++i) std::swap(t(i, kept), t(i, j));
    if (fu_valid_) fu_.swap_columns(kept, j);
    ++kept;
  }
  rep.dropped = dim_ - kept;
  if (rep.dropped > 0) {
    std::ostringstream msg;
    if (!rep.message.empty()) msg << rep.message << "; ";
    msg << "recycle space: dropped " << rep.dropped << " of " << dim_ << " vectors ("
        << (zero_cols > 0 ? "zero, non-finite or " : "") << "numerically dependent after H was applied";
    if (collapsed_cols > 0) msg << "; " << collapsed_cols << " of them had cancelled to rounding noise";
    msg << ")";
    rep.message = msg.str();
  }
  dim_ = kept;
  // U = Ũ R⁻¹ in place, column by column (U_j needs only U_0..U_{j-1}); F·U likewise.
  for (PetscInt j = 0; j < dim_; ++j) {
    for (PetscInt i = 0; i < j; ++i) h1[static_cast<size_t>(i)] = -r_(i, j);
    if (j > 0) BILEARN_CHECK(VecMAXPY(u_[j], j, h1.data(), u_.data()));
    BILEARN_CHECK(VecScale(u_[j], 1.0 / r_(j, j)));
    if (track)
      for (PetscInt row = 0; row < t.rows(); ++row) {
        PetscReal v = t(row, j);
        for (PetscInt i = 0; i < j; ++i) v -= r_(i, j) * t(row, i);
        t(row, j) = v / r_(j, j);
      }
    if (fu_valid_) {
      if (j > 0) BILEARN_CHECK(VecMAXPY(fu_[j], j, h1.data(), fu_.data()));
      BILEARN_CHECK(VecScale(fu_[j], 1.0 / r_(j, j)));
    }
  }
  if (track) {
    const Dense tk = t.block(0, 0, t.rows(), dim_);
    metric_ = congruence(tk, metric_);
    metric_valid_ = dim_ > 0;
  }
  rep.dim = dim_;
  prepared_ = true;
  return rep;
}

PetscReal RecycleSpace::carried_probe_error(Mat h, Vec work, const std::vector<char>& skip) {
  std::vector<PetscReal> cn(static_cast<size_t>(dim_), 0.0);
  for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecNormBegin(c_[j], NORM_2, &cn[static_cast<size_t>(j)]));
  for (PetscInt j = 0; j < dim_; ++j) BILEARN_CHECK(VecNormEnd(c_[j], NORM_2, &cn[static_cast<size_t>(j)]));
  // Weights ±1/‖C̃_j‖ give every column the same say (a column of the small eigenvalues is not
  // hidden behind one of the large); the signs are a fixed pseudo-random pattern.
  std::vector<PetscScalar> w(static_cast<size_t>(dim_), 0.0);
  for (PetscInt j = 0; j < dim_; ++j) {
    const PetscReal n = cn[static_cast<size_t>(j)];
    if (!std::isfinite(n)) return PETSC_INFINITY;
    if (skip[static_cast<size_t>(j)] || n == 0) continue;
    w[static_cast<size_t>(j)] = (((j * 2654435761u) >> 7) & 1u ? 1.0 : -1.0) / n;
  }
  if (!probe_ || !same_layout(probe_, u_[0])) {  // storage may come from ensure_storage or set_basis
    probe_.reset();
    BILEARN_CHECK(VecDuplicate(u_[0], probe_.out()));
  }
  BILEARN_CHECK(VecSet(probe_, 0.0));
  BILEARN_CHECK(VecMAXPY(probe_, dim_, w.data(), u_.data()));
  BILEARN_CHECK(MatMult(h, probe_, work));
  BILEARN_CHECK(VecSet(probe_, 0.0));
  BILEARN_CHECK(VecMAXPY(probe_, dim_, w.data(), c_.data()));
  BILEARN_CHECK(VecAXPY(work, -1.0, probe_));
  PetscReal e = 0, n = 0;
  BILEARN_CHECK(VecNormBegin(work, NORM_2, &e));
  BILEARN_CHECK(VecNormBegin(probe_, NORM_2, &n));
  BILEARN_CHECK(VecNormEnd(work, NORM_2, &e));
  BILEARN_CHECK(VecNormEnd(probe_, NORM_2, &n));
  return n > 0 ? e / n : (e > 0 ? PETSC_INFINITY : 0.0);
}

void RecycleSpace::project(Vec x, Vec r, PetscScalar* t) {
  if (dim_ == 0) return;
  BILEARN_CHECK(VecMDot(r, dim_, c_.data(), t));
  BILEARN_CHECK(VecMAXPY(x, dim_, t, u_.data()));
  for (PetscInt j = 0; j < dim_; ++j) t[j] = -t[j];
  BILEARN_CHECK(VecMAXPY(r, dim_, t, c_.data()));
  for (PetscInt j = 0; j < dim_; ++j) t[j] = -t[j];
}

PetscReal RecycleSpace::orthogonality_loss() const {
  if (!prepared_ || dim_ == 0) return 0.0;
  std::vector<PetscScalar> g(static_cast<size_t>(dim_));
  PetscReal s = 0;
  for (PetscInt j = 0; j < dim_; ++j) {
    BILEARN_CHECK(VecMDot(c_[j], dim_, const_cast<Vec*>(c_.data()), g.data()));
    for (PetscInt i = 0; i < dim_; ++i) {
      const PetscReal e = PetscRealPart(g[static_cast<size_t>(i)]) - (i == j ? 1.0 : 0.0);
      s += e * e;
    }
  }
  return std::sqrt(s);
}

void RecycleSpace::keep_after_solve(Mat h, Mat fixed) {
  prepared_ = false;
  from_update_ = false;  // a prepared U is a basis of its own (norms ≈ 1/λ), no longer the update's model
  if (fu_valid_ && fixed && dim_ > 0) {
    c_.swap(fu_);  // C = F U + R U of this solve is not needed again; F U is what the next split uses
    set_carried(Carried::Fixed, fixed);
  } else {
    set_carried(dim_ > 0 ? Carried::Full : Carried::None, h);
  }
  fu_valid_ = false;
}

void RecycleSpace::adopt(VecBlock& ucand, VecBlock& hucand, PetscInt n, bool hu_valid, Mat h) {
  from_update_ = true;
  metric_valid_ = false;
  fu_valid_ = false;
  u_.swap(ucand);
  c_.swap(hucand);
  dim_ = std::min(n, kmax_);
  prepared_ = false;
  set_carried(hu_valid && dim_ > 0 ? Carried::Full : Carried::None, h);
}

PetscInt RecycleSpace::convert_to_fixed(Mat fixed, Mat varying, Vec work) {
  if (carried_ != Carried::Full || !fixed || !varying || dim_ == 0) return 0;
  for (PetscInt j = 0; j < dim_; ++j) {
    BILEARN_CHECK(MatMult(varying, u_[j], work));
    BILEARN_CHECK(VecAXPY(c_[j], -1.0, work));
  }
  set_carried(Carried::Fixed, fixed);
  return dim_;
}

}  // namespace bilearn::krylov
