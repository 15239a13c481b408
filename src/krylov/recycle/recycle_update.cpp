#include "krylov/recycle/recycle_update.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/recycle/recycle_space.hpp"

// Candidate bookkeeping. During a solve with the prepared space (U, C = HU, CᵀC = I) the
// candidate Ũ_cand is U·Y_U plus a combination of earlier Lanczos vectors. With P = I − CCᵀ:
//   H·Ũ_cand = C·Q1 + P·H·Ũ_cand,  Q1 = Cᵀ H Ũ_cand,
// and P·H·Ũ_cand lies in the span of the Lanczos vectors seen so far; of the current cycle's
// extended vectors [v_{a−1}, v_a, …, v_{b+1}] it touches only v_{a−1} and v_a, with
// coefficients E (2 × s_c). For W = [Ũ_cand, V] (V = v_a..v_b, Vᵀ V = I, Vᵀ C = 0):
//   WᵀW     = [G_c, Y_Uᵀ(UᵀV); ·, I]
//   WᵀHW    = [A_c, Ẽᵀ_{1..m}; ·, T]                      (Ẽ: E padded to the extended rows)
//   (HW)ᵀHW = [K_c, Q1ᵀB + ẼᵀT_ext; ·, BᵀB + T_extᵀT_ext]  (H V = C B + V_ext T_ext)
// and after the selection Ũ' = W Y these are carried as YᵀGY, YᵀAY, YᵀKY, Y_U Y₁, Q1 Y₁ + B Y₂,
// and E' = rows (v_b, v_{b+1}) of Ẽ Y₁ + T_ext Y₂.

namespace bilearn::krylov {

void RecycleUpdater::allocate(Vec tmpl, PetscInt k, PetscInt m, PetscInt k_nsc) {
  const bool same = ucand_.allocated() && kcap_ == k && mcap_ == m && zcap_ == k_nsc && same_layout(ucand_[0], tmpl);
  if (same) return;
  ucand_.allocate(tmpl, k);
  hucand_.allocate(tmpl, k);
  vbuf_.allocate(tmpl, m + 2);
  z_.allocate(tmpl, k_nsc);
  kcap_ = k;
  mcap_ = m;
  zcap_ = k_nsc;
  nz_ = 0;
  sc_ = 0;
  recording_ = false;
}

void RecycleUpdater::free_storage() noexcept {
  ucand_.clear();
  hucand_.clear();
  vbuf_.clear();
  z_.clear();
  kcap_ = mcap_ = zcap_ = 0;
  nz_ = 0;
  sc_ = 0;
  recording_ = false;
}

void RecycleUpdater::begin(RecycleSpace& space, const UpdateSettings& settings, const MixedOperator* j) {
  space_ = &space;
  settings_ = settings;
  settings_.k = std::min(settings_.k, kcap_);
  settings_.k_nsc = std::min(settings_.k_nsc, zcap_);
  j_ = j;
  s_ = space.dim();
  sc_ = s_;
  first_ = true;
  count_ = coef_count_ = 0;
  window_closed_ = false;
  has_prev_ = false;
  beta_a_ = 0;
  alpha_.assign(static_cast<size_t>(mcap_), 0.0);
  beta_next_.assign(static_cast<size_t>(mcap_), 0.0);
  b_.resize(s_, mcap_);
  q1_ = Dense::identity(s_);
  e_ = Dense(2, s_);
  yu_ = Dense::identity(s_);
  stats_ = UpdateStats{};
  recording_ = kcap_ > 0 && mcap_ > 0;
}

void RecycleUpdater::push(Vec x, PetscScalar scale) {
  if (!recording_ || window_closed_) return;
  if (count_ == mcap_ && settings_.first_window) {
    BILEARN_CHECK(VecCopy(x, vbuf_[mcap_ + 1]));
    if (scale != 1.0) BILEARN_CHECK(VecScale(vbuf_[mcap_ + 1], scale));
    window_closed_ = true;
    return;
  }
  if (count_ == mcap_) {
    // x is v_{b+1}: close the cycle, then v_b and v_{b+1} become the new cycle's v_{a−1}, v_a.
    if (coef_count_ != count_) throw NumericalError("recycle update: Lanczos coefficients missing");
    BILEARN_CHECK(VecCopy(x, vbuf_[mcap_ + 1]));
    if (scale != 1.0) BILEARN_CHECK(VecScale(vbuf_[mcap_ + 1], scale));
    run_cycle(mcap_, true, false);
    vbuf_.swap_columns(0, mcap_);
    vbuf_.swap_columns(1, mcap_ + 1);
    has_prev_ = true;
    beta_a_ = beta_next_[static_cast<size_t>(mcap_ - 1)];
    count_ = 1;
    coef_count_ = 0;
    return;
  }
  BILEARN_CHECK(VecCopy(x, vbuf_[count_ + 1]));
  if (scale != 1.0) BILEARN_CHECK(VecScale(vbuf_[count_ + 1], scale));
  ++count_;
}

void RecycleUpdater::set_coefficients(PetscReal alpha, PetscReal beta_next, const PetscScalar* h) {
  if (!recording_ || window_closed_) return;
  if (coef_count_ >= count_) throw NumericalError("recycle update: coefficients without a Lanczos vector");
  const PetscInt j = coef_count_++;
  alpha_[static_cast<size_t>(j)] = alpha;
  beta_next_[static_cast<size_t>(j)] = beta_next;
  for (PetscInt i = 0; i < s_; ++i) b_(i, j) = PetscRealPart(h[i]);
}

void RecycleUpdater::abort() noexcept {
  recording_ = false;
}

bool RecycleUpdater::finish(Vec next, PetscScalar scale) {
  if (!recording_) return false;
  recording_ = false;
  bool have_boundary = false;
  if (window_closed_) {
    have_boundary = true;
  } else if (coef_count_ == count_ - 1) {
    // The last pushed vector has no coefficients: it is v_{b+1} already in place.
    count_ = coef_count_;
    have_boundary = true;
  } else if (coef_count_ == count_ && count_ > 0) {
    const PetscReal bnext = beta_next_[static_cast<size_t>(count_ - 1)];
    if (next && bnext != 0.0) {
      BILEARN_CHECK(VecCopy(next, vbuf_[count_ + 1]));
      if (scale != 1.0) BILEARN_CHECK(VecScale(vbuf_[count_ + 1], scale));
      have_boundary = true;
    }
  } else if (count_ > 0) {
    return false;
  }
  if (count_ > 0) run_cycle(count_, have_boundary, true);
  return !first_ && sc_ > 0;
}

void RecycleUpdater::apply_j(Vec v, PetscReal* out) {
  {
    log::ScopedEvent event(log::events().mixed_apply);
    BILEARN_CHECK(j_->mult(j_->ctx, v, out));
  }
  ++stats_.j_applies;
}

void RecycleUpdater::run_cycle(PetscInt mc, bool have_boundary, bool final_cycle) {
  log::ScopedEvent event(log::events().recycle_update);
  run_cycle_body(mc, have_boundary, final_cycle);
}

void RecycleUpdater::run_cycle_body(PetscInt mc, bool have_boundary, bool final_cycle) {
  const Selector sel = settings_.selector;
  const bool need_j = selector_needs_j(sel);
  const bool harmonic = selector_needs_harmonic(sel);
  const bool want_nsc = final_cycle && settings_.k_nsc > 0 && j_ && j_->available();
  if (need_j && !(j_ && j_->available()))
    throw InputError(std::string("recycle selector ") + selector_name(sel) +
                     " needs J: call KSPRecycleSetMixedOperator() first or choose a ritz/hritz selector");
  const PetscInt s = s_, sc = sc_, p = (j_ && j_->available()) ? j_->p : 0;
  Vec* u = space_->u();
  Vec* c = space_->c();
  Vec* v = vbuf_.data() + 1;

  // 1. Explicit inner products: Uᵀ V_cycle (and UᵀU, UᵀC in the first cycle), one reduction.
  Dense x(s, mc);
  if (s > 0) {
    std::vector<Vec> list;
    if (first_) {
      for (PetscInt i = 0; i < s; ++i) list.push_back(u[i]);
      for (PetscInt i = 0; i < s; ++i) list.push_back(c[i]);
    }
    for (PetscInt i = 0; i < mc; ++i) list.push_back(v[i]);
    const Dense out = inner(u, s, list.data(), static_cast<PetscInt>(list.size()));
    const PetscInt off = first_ ? 2 * s : 0;
    x = out.block(0, off, s, mc);
    if (first_) {
      gc_.resize(s, s);
      ac_.resize(s, s);
      for (PetscInt i = 0; i < s; ++i)
        for (PetscInt j = 0; j < s; ++j) {
          gc_(i, j) = 0.5 * (out(i, j) + out(j, i));
          ac_(i, j) = 0.5 * (out(i, s + j) + out(j, s + i));
        }
    }
  }
  if (first_) {
    if (s == 0) {
      gc_.resize(0, 0);
      ac_.resize(0, 0);
    }
    kc_ = Dense::identity(s);  // CᵀC
    juc_ = Dense(p, 0);
    if (need_j) {
      juc_.resize(p, s);
      for (PetscInt i = 0; i < s; ++i) apply_j(u[i], juc_.col(i));
    }
  }
  // J on the cycle's vectors; for NSC alone J of the candidate is taken directly at the end.
  Dense jv;
  if (need_j || want_nsc) {
    jv.resize(p, mc);
    for (PetscInt i = 0; i < mc; ++i) apply_j(v[i], jv.col(i));
    if (!need_j) {
      juc_.resize(p, sc);
      Vec* ucs = first_ ? u : ucand_.data();
      for (PetscInt i = 0; i < sc; ++i) apply_j(ucs[i], juc_.col(i));
    }
  }

  // 2. Tridiagonal of the extended cycle: column j is H v_{a+j} on rows v_{a−1} .. v_{b+1}.
  Dense text(mc + 2, mc);
  for (PetscInt j = 0; j < mc; ++j) {
    text(j, j) = j == 0 ? (has_prev_ ? beta_a_ : 0.0) : beta_next_[static_cast<size_t>(j - 1)];
    text(j + 1, j) = alpha_[static_cast<size_t>(j)];
    text(j + 2, j) = (j < mc - 1 || have_boundary) ? beta_next_[static_cast<size_t>(j)] : 0.0;
  }
  Dense etil(mc + 2, sc);
  for (PetscInt i = 0; i < sc; ++i) {
    etil(0, i) = has_prev_ ? e_(0, i) : 0.0;
    etil(1, i) = e_(1, i);
  }
  const Dense bcyc = b_.block(0, 0, s, mc);

  // 3. The small problem on W = [Ũ_cand, V].
  const PetscInt nw = sc + mc;
  SmallProblem prob;
  prob.G = Dense(nw, nw);
  prob.G.set_block(0, 0, gc_);
  const Dense guv = multiply(yu_, x, true, false);
  prob.G.set_block(0, sc, guv);
  prob.G.set_block(sc, 0, guv.transpose());
  for (PetscInt j = 0; j < mc; ++j) prob.G(sc + j, sc + j) = 1.0;
  prob.A = Dense(nw, nw);
  prob.A.set_block(0, 0, ac_);
  for (PetscInt i = 0; i < sc; ++i)
    for (PetscInt j = 0; j < mc; ++j) prob.A(i, sc + j) = prob.A(sc + j, i) = etil(j + 1, i);
  prob.A.set_block(sc, sc, text.block(1, 0, mc, mc));
  if (harmonic) {
    prob.K = Dense(nw, nw);
    prob.K.set_block(0, 0, kc_);
    Dense kuv = multiply(q1_, bcyc, true, false);
    const Dense et = multiply(etil, text, true, false);
    for (PetscInt i = 0; i < sc; ++i)
      for (PetscInt j = 0; j < mc; ++j) kuv(i, j) += et(i, j);
    prob.K.set_block(0, sc, kuv);
    prob.K.set_block(sc, 0, kuv.transpose());
    Dense kvv = multiply(bcyc, bcyc, true, false);
    const Dense tt = multiply(text, text, true, false);
    for (PetscInt i = 0; i < mc; ++i)
      for (PetscInt j = 0; j < mc; ++j) kvv(i, j) += tt(i, j);
    prob.K.set_block(sc, sc, kvv);
  }
  if (need_j || want_nsc) {
    prob.JW = Dense(p, nw);
    prob.JW.set_block(0, 0, juc_);
    prob.JW.set_block(0, sc, jv);
  }

  // 4. Selection.
  log::ScopedEvent selector_event(log::events().selector);
  Selection chosen = select_space(prob, sel, settings_.k, want_nsc ? settings_.k_nsc : 0);
  selector_event.end();
  const Dense& y = chosen.y;
  const PetscInt knew = y.cols();
  Vec* ucs = first_ ? u : ucand_.data();

  // 5. NSC block Z = W z (before the candidate is overwritten).
  if (want_nsc) {
    nz_ = chosen.z.cols();
    combine(z_.data(), ucs, sc, chosen.z, 0, false);
    combine(z_.data(), v, mc, chosen.z, sc, true);
    stats_.nsc_dim = nz_;
  }

  // 6. Ũ' = Ũ_cand Y₁ + V Y₂ and H Ũ' = H Ũ_cand Y₁ + C (B Y₂) + V_ext (T_ext Y₂).
  const Dense y1 = y.block(0, 0, sc, knew);
  const Dense y2 = y.block(sc, 0, mc, knew);
  if (first_) {
    combine(ucand_.data(), u, s, y, 0, false);
  } else {
    mult_in_place(ucand_.data(), y1);
  }
  combine(ucand_.data(), v, mc, y, sc, true);
  const Dense by2 = multiply(bcyc, y2);
  const Dense ty2 = multiply(text, y2);
  if (settings_.carry_hu) {
    if (first_) {
      Dense coef = y1;
      for (PetscInt i = 0; i < s; ++i)
        for (PetscInt j = 0; j < knew; ++j) coef(i, j) += by2(i, j);
      combine(hucand_.data(), c, s, coef, 0, false);
    } else {
      mult_in_place(hucand_.data(), y1);
      combine(hucand_.data(), c, s, by2, 0, true);
    }
    std::vector<Vec> ext;
    std::vector<PetscInt> rows;
    if (has_prev_) {
      ext.push_back(vbuf_[0]);
      rows.push_back(0);
    }
    for (PetscInt j = 0; j < mc; ++j) {
      ext.push_back(v[j]);
      rows.push_back(j + 1);
    }
    if (have_boundary) {
      ext.push_back(vbuf_[mc + 1]);
      rows.push_back(mc + 1);
    }
    Dense tc(static_cast<PetscInt>(rows.size()), knew);
    for (size_t r = 0; r < rows.size(); ++r)
      for (PetscInt j = 0; j < knew; ++j) tc(static_cast<PetscInt>(r), j) = ty2(rows[r], j);
    combine(hucand_.data(), ext.data(), static_cast<PetscInt>(ext.size()), tc, 0, true);
  }

  // 7. Carry the small matrices.
  gc_ = congruence(y, prob.G);
  ac_ = congruence(y, prob.A);
  if (harmonic) kc_ = congruence(y, prob.K);
  if (need_j) juc_ = multiply(prob.JW, y);
  yu_ = multiply(yu_, y1);
  Dense q1n = multiply(q1_, y1);
  for (PetscInt i = 0; i < s; ++i)
    for (PetscInt j = 0; j < knew; ++j) q1n(i, j) += by2(i, j);
  q1_ = q1n;
  Dense mcoef = multiply(etil, y1);
  for (PetscInt i = 0; i < mc + 2; ++i)
    for (PetscInt j = 0; j < knew; ++j) mcoef(i, j) += ty2(i, j);
  e_ = mcoef.block(mc, 0, 2, knew);
  sc_ = knew;
  first_ = false;
  ++stats_.cycles;
  stats_.candidate_dim = sc_;
  last_ = std::move(chosen);
}

}  // namespace bilearn::krylov
