#include "krylov/recycle/prec_update.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/recycle/recycle_space.hpp"

namespace bilearn::krylov {

void PrecUpdater::allocate(Vec tmpl, PetscInt k, PetscInt m) {
  if (x_.allocated() && kcap_ == k && mcap_ == m && same_layout(x_[0], tmpl)) return;
  x_.allocate(tmpl, k);
  xr_.allocate(tmpl, k);
  hx_.allocate(tmpl, k);
  zb_.allocate(tmpl, m);
  rb_.allocate(tmpl, m);
  hb_.allocate(tmpl, m + 2);  // slot m: last H z̃ of the previous cycle before the recurrence; m + 1: scratch
  kcap_ = k;
  mcap_ = m;
  kc_ = 0;
  recording_ = false;
}

void PrecUpdater::free_storage() noexcept {
  x_.clear();
  xr_.clear();
  hx_.clear();
  zb_.clear();
  rb_.clear();
  hb_.clear();
  kcap_ = mcap_ = 0;
  kc_ = 0;
  recording_ = false;
}

void PrecUpdater::begin(RecycleSpace& space, Selector sel, PetscInt k, bool first_window) {
  if (selector_needs_j(sel) || selector_needs_harmonic(sel))
    throw InputError(std::string("recycle selector ") + selector_name(sel) +
                     " is not available with a preconditioner: choose ritz_s, ritz_l or ritz_both");
  space_ = &space;
  sel_ = sel;
  k_ = std::min(k, kcap_);
  s_ = space.dim();
  first_window_ = first_window;
  window_closed_ = false;
  first_ = true;
  have_prev_ = false;
  count_ = 0;
  kc_ = 0;
  cycles_ = 0;
  slot_open_ = false;
  coef_.assign(static_cast<size_t>(mcap_), 0.0);
  prev_scale_ = 1.0;
  const Dense* metric = space.metric();
  metric_known_ = s_ == 0 || metric != nullptr;
  guu_ = metric ? *metric : Dense(s_, s_);
  gz_ = Dense(s_, mcap_);
  gx_ = Dense(s_, 0);
  recording_ = kcap_ > 0 && mcap_ > 0;
}

Vec PrecUpdater::slot() {
  if (!recording()) return nullptr;
  slot_open_ = true;
  return zb_[count_];
}

void PrecUpdater::record(Vec r, Vec hz, PetscReal scale, PetscReal coef, const PetscScalar* g) {
  if (!recording() || !slot_open_) return;
  slot_open_ = false;
  const PetscInt j = count_;
  BILEARN_CHECK(VecScale(zb_[j], scale));
  BILEARN_CHECK(VecAXPBY(rb_[j], scale, 0.0, r));
  BILEARN_CHECK(VecAXPBY(hb_[j], scale, 0.0, hz));
  coef_[static_cast<size_t>(j)] = coef * scale / prev_scale_;  // on the scaled vectors
  prev_scale_ = scale;
  for (PetscInt i = 0; i < s_; ++i) gz_(i, j) = -scale * PetscRealPart(g[i]);
  ++count_;
  if (count_ == mcap_) {
    if (first_window_)
      window_closed_ = true;
    else
      run_cycle();
  }
}

bool PrecUpdater::finish() {
  if (!recording_) return false;
  recording_ = false;
  if (count_ > 0) run_cycle();
  return !first_ && kc_ > 0;
}

void PrecUpdater::run_cycle() {
  log::ScopedEvent event(log::events().recycle_update);
  const PetscInt mc = count_, m = mcap_, s = s_;
  Vec* u = space_->u();
  Vec* c = space_->c();
  // 1. H z̃_j = hz_j − coef_j hz_{j−1} in place, backwards (hz_{j−1} still unmodified).
  BILEARN_CHECK(VecCopy(hb_[mc - 1], hb_[m + 1]));
  for (PetscInt j = mc - 1; j >= 1; --j)
    if (coef_[static_cast<size_t>(j)] != 0.0)
      BILEARN_CHECK(VecAXPY(hb_[j], -coef_[static_cast<size_t>(j)], hb_[j - 1]));
  if (coef_[0] != 0.0 && have_prev_) BILEARN_CHECK(VecAXPY(hb_[0], -coef_[0], hb_[m]));
  hb_.swap_columns(m, m + 1);
  have_prev_ = true;

  // 2. W = [X, Z̃], H W, W_r (the explicit parts of M W) and Γ_W.
  const PetscInt nx = first_ ? (metric_known_ ? s : 0) : kc_;
  const PetscInt nw = nx + mc;
  const PetscInt roff = first_ ? nx : 0;  // W_r starts at this column of W (U has no explicit part)
  const PetscInt nr = nw - roff;
  std::vector<Vec> w, hw, wr;
  for (PetscInt i = 0; i < nx; ++i) {
    w.push_back(first_ ? u[i] : x_[i]);
    hw.push_back(first_ ? c[i] : hx_[i]);
    if (!first_) wr.push_back(xr_[i]);
  }
  for (PetscInt i = 0; i < mc; ++i) {
    w.push_back(zb_[i]);
    hw.push_back(hb_[i]);
    wr.push_back(rb_[i]);
  }
  Dense gam(s, nw);
  for (PetscInt l = 0; l < s; ++l) {
    for (PetscInt i = 0; i < nx; ++i) gam(l, i) = first_ ? (l == i ? 1.0 : 0.0) : gx_(l, i);
    for (PetscInt i = 0; i < mc; ++i) gam(l, nx + i) = gz_(l, i);
  }
  const Dense p1 = inner(w.data(), nw, wr.data(), nr);
  Dense g(nw, nw);
  for (PetscInt a = 0; a < nw; ++a)
    for (PetscInt b = roff; b < nw; ++b) g(a, b) = p1(a, b - roff);
  if (s > 0) {
    const Dense p2 = inner(wr.data(), nr, u, s);
    const Dense q0 = multiply(gam, guu_, true, false);  // Γᵀ UᵀMU (zero when the metric is unknown)
    Dense q(nw, s);
    for (PetscInt a = 0; a < nw; ++a)
      for (PetscInt l = 0; l < s; ++l) q(a, l) = q0(a, l) + (a >= roff ? p2(a - roff, l) : 0.0);
    const Dense qg = multiply(q, gam);
    for (PetscInt a = 0; a < nw; ++a)
      for (PetscInt b = 0; b < nw; ++b) g(a, b) += qg(a, b);
  }
  Dense hmat = inner(w.data(), nw, hw.data(), nw);
  for (PetscInt a = 0; a < nw; ++a)
    for (PetscInt b = 0; b < a; ++b) {
      const PetscReal gs = 0.5 * (g(a, b) + g(b, a)), hs = 0.5 * (hmat(a, b) + hmat(b, a));
      g(a, b) = g(b, a) = gs;
      hmat(a, b) = hmat(b, a) = hs;
    }

  // 3. Ritz pairs of M⁻¹H on W: H W y = λ M W y.
  SmallProblem prob;
  prob.G = g;
  prob.A = hmat;
  log::ScopedEvent selector_event(log::events().selector);
  const Selection chosen = select_space(prob, sel_, k_, 0);
  selector_event.end();
  const Dense& y = chosen.y;
  const PetscInt knew = y.cols();

  // 4. X' = W Y, (H X)' = H W Y, X_r' = W_r Y, Γ' = Γ_W Y.
  if (first_) {
    if (nx > 0) {
      combine(x_.data(), u, nx, y, 0, false);
      combine(hx_.data(), c, nx, y, 0, false);
    }
    combine(x_.data(), zb_.data(), mc, y, nx, nx > 0);
    combine(hx_.data(), hb_.data(), mc, y, nx, nx > 0);
    combine(xr_.data(), rb_.data(), mc, y, nx, false);
  } else {
    const Dense y1 = y.block(0, 0, nx, knew);
    mult_in_place(x_.data(), y1);
    mult_in_place(hx_.data(), y1);
    mult_in_place(xr_.data(), y1);
    combine(x_.data(), zb_.data(), mc, y, nx, true);
    combine(hx_.data(), hb_.data(), mc, y, nx, true);
    combine(xr_.data(), rb_.data(), mc, y, nx, true);
  }
  gx_ = multiply(gam, y);
  gxx_ = congruence(y, g);
  kc_ = knew;
  count_ = 0;
  first_ = false;
  ++cycles_;
}

}  // namespace bilearn::krylov
