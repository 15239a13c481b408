#include "krylov/recycle/selector.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {

const std::vector<std::string>& selector_names() {
  static const std::vector<std::string> names = {"ritz_s",  "ritz_l", "ritz_both", "hritz_s",
                                                 "hritz_l", "rgen_l", "rgen_s",    "rgen_l_left"};
  return names;
}

Selector parse_selector(const std::string& name) {
  const auto& names = selector_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<Selector>(i);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw InputError("unknown recycle selector '" + name + "' (choose one of " + list + ")");
}

const char* selector_name(Selector s) {
  return selector_names()[static_cast<size_t>(s)].c_str();
}

bool selector_needs_j(Selector s) {
  return s == Selector::RgenL || s == Selector::RgenS || s == Selector::RgenLLeft;
}
bool selector_needs_harmonic(Selector s) {
  return s == Selector::HRitzS || s == Selector::HRitzL;
}

namespace {

// Indices 0..n-1 sorted by key ascending (stable, so ties keep LAPACK's order on every rank).
std::vector<PetscInt> order_by(const std::vector<PetscReal>& key) {
  std::vector<PetscInt> idx(key.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](PetscInt a, PetscInt b) { return key[a] < key[b]; });
  return idx;
}

// From an ascending ordering of key take `k` entries: the first k ("small"), the last k
// ("large") or ceil(k/2) from the front and floor(k/2) from the back ("both"). An entry whose
// key equals (to kGhostTol relative) one already taken from the same end is skipped: after
// Lanczos has lost orthogonality a converged eigenvalue reappears as ghost Ritz pairs (a
// multiple eigenvalue, e.g. the 1/γ curvature of smoothed ℓ1 on flat regions, is seen once in
// exact arithmetic), and ghosts only duplicate a direction the space already holds.
constexpr PetscReal kGhostTol = 1e-8;

std::vector<PetscInt> take(const std::vector<PetscInt>& ordered, const std::vector<PetscReal>& key, PetscInt k,
                           int which /*0 small 1 large 2 both*/) {
  const PetscInt n = static_cast<PetscInt>(ordered.size());
  k = std::min(k, n);
  const PetscInt want_lo = which == 0 ? k : which == 1 ? 0 : (k + 1) / 2;
  std::vector<PetscInt> lo, hi;
  auto ghost = [&](const std::vector<PetscInt>& taken, PetscInt i) {
    return !taken.empty() && std::abs(key[static_cast<size_t>(i)] - key[static_cast<size_t>(taken.back())]) <=
                                 kGhostTol * std::abs(key[static_cast<size_t>(i)]);
  };
  PetscInt front = 0, back = n - 1;
  // Front first up to its share, then the back takes the rest (and the front refills if the
  // back runs out of distinct values).
  while (static_cast<PetscInt>(lo.size()) < want_lo && front <= back) {
    const PetscInt i = ordered[static_cast<size_t>(front++)];
    if (!ghost(lo, i)) lo.push_back(i);
  }
  while (static_cast<PetscInt>(lo.size() + hi.size()) < k && front <= back) {
    const PetscInt i = ordered[static_cast<size_t>(which == 0 ? front++ : back--)];
    std::vector<PetscInt>& side = which == 0 ? lo : hi;
    if (!ghost(side, i)) side.push_back(i);
  }
  lo.insert(lo.end(), hi.begin(), hi.end());
  return lo;
}

// Scales each column y_j of y (coefficients in the orthonormal basis W S) to unit length.
void normalise_columns(Dense& y) {
  for (PetscInt j = 0; j < y.cols(); ++j) {
    PetscReal s = 0;
    for (PetscInt i = 0; i < y.rows(); ++i) s += y(i, j) * y(i, j);
    s = std::sqrt(s);
    if (s > 0)
      for (PetscInt i = 0; i < y.rows(); ++i) y(i, j) /= s;
  }
}

// Pseudo-inverse of a symmetric matrix from its eigendecomposition: eigenvalues below
// tol·max|λ| are treated as zero.
Dense sym_pinv(const SymEig& e, PetscReal tol) {
  const PetscInt n = static_cast<PetscInt>(e.values.size());
  PetscReal mx = 0;
  for (PetscReal v : e.values) mx = std::max(mx, std::abs(v));
  Dense scaled = e.vectors;
  for (PetscInt j = 0; j < n; ++j) {
    const PetscReal l = e.values[static_cast<size_t>(j)];
    const PetscReal inv = (std::abs(l) > tol * mx && mx > 0) ? 1.0 / l : 0.0;
    for (PetscInt i = 0; i < n; ++i) scaled(i, j) *= inv;
  }
  return multiply(scaled, e.vectors, false, true);
}

}  // namespace

Selection select_space(const SmallProblem& p, Selector sel, PetscInt k, PetscInt k_nsc, PetscReal gram_tol) {
  Selection out;
  const PetscInt n = p.G.rows();
  if (n == 0 || (k <= 0 && k_nsc <= 0)) {
    out.y = Dense(n, 0);
    out.z = Dense(n, 0);
    return out;
  }
  // Implicit orthonormalisation of W: WᵀW = Q Λ Qᵀ, S = Q_r Λ_r^{-1/2} so W S has orthonormal
  // columns spanning range(W) (directions with λ < gram_tol·λ_max are dependent and dropped).
  const SymEig ge = sym_eig(p.G);
  const PetscReal lmax = ge.values.empty() ? 0.0 : ge.values.back();
  std::vector<PetscInt> kept;
  for (PetscInt i = n - 1; i >= 0; --i)
    if (lmax > 0 && std::isfinite(ge.values[static_cast<size_t>(i)]) &&
        ge.values[static_cast<size_t>(i)] > gram_tol * lmax)
      kept.push_back(i);
  const PetscInt r = static_cast<PetscInt>(kept.size());
  out.rank = r;
  Dense s(n, r);
  for (PetscInt j = 0; j < r; ++j) {
    const PetscReal scale = 1.0 / std::sqrt(ge.values[static_cast<size_t>(kept[static_cast<size_t>(j)])]);
    for (PetscInt i = 0; i < n; ++i) s(i, j) = ge.vectors(i, kept[static_cast<size_t>(j)]) * scale;
  }
  if (r == 0) {
    out.y = Dense(n, 0);
    out.z = Dense(n, 0);
    return out;
  }
  const Dense at = congruence(s, p.A);  // Sᵀ A S: WᵀHW in the orthonormal basis
  const bool need_svd = selector_needs_j(sel) || k_nsc > 0;
  if (need_svd && p.JW.cols() != n) throw InputError("recycle selection needs J W but J is not available");

  Dense ytilde;
  // The SVD of G = (J W S) Ã⁻¹ (§4.2), shared by the rgen selectors and NSC.
  Svd sv;
  Dense ainv;
  if (need_svd) {
    const SymEig ae = sym_eig(at);
    ainv = sym_pinv(ae, 1e-13);
    const Dense jt = multiply(p.JW, s);
    sv = svd_right(multiply(jt, ainv));
  }
  auto gamma = [&](PetscInt i) {
    return i < static_cast<PetscInt>(sv.values.size()) ? sv.values[static_cast<size_t>(i)] : 0.0;
  };
  auto qh = [&](PetscInt i) {  // right singular vector i as a column (row i of Vᵀ)
    Dense c(r, 1);
    for (PetscInt l = 0; l < r; ++l) c(l, 0) = sv.vt(i, l);
    return c;
  };

  switch (sel) {
    case Selector::RitzS:
    case Selector::RitzL:
    case Selector::RitzBoth: {
      const SymEig e = sym_eig(at);
      std::vector<PetscReal> mag(e.values.size());
      for (size_t i = 0; i < mag.size(); ++i) mag[i] = std::abs(e.values[i]);
      const int which = sel == Selector::RitzS ? 0 : sel == Selector::RitzL ? 1 : 2;
      const auto idx = take(order_by(mag), mag, k, which);
      ytilde = e.vectors.columns(idx);
      for (PetscInt i : idx) out.values.push_back(e.values[static_cast<size_t>(i)]);
      break;
    }
    case Selector::HRitzS:
    case Selector::HRitzL: {
      // Ã y = θ K̃ y with K̃ = (HWS)ᵀ(HWS) SPD; harmonic Ritz value ν = 1/θ.
      Dense kt = congruence(s, p.K);
      SymEig e;
      try {
        e = sym_gen_eig(at, kt);
      } catch (const NumericalError&) {
        PetscReal tr = 0;
        for (PetscInt i = 0; i < r; ++i) tr += std::abs(kt(i, i));
        for (PetscInt i = 0; i < r; ++i) kt(i, i) += 1e-12 * tr / static_cast<PetscReal>(r) + PETSC_SMALL * 1e-20;
        e = sym_gen_eig(at, kt);
      }
      // smallest |ν| ⇔ largest |θ|
      std::vector<PetscReal> key(e.values.size());
      for (size_t i = 0; i < key.size(); ++i) key[i] = -std::abs(e.values[i]);
      const auto idx = take(order_by(key), key, k, sel == Selector::HRitzS ? 0 : 1);
      ytilde = e.vectors.columns(idx);
      normalise_columns(ytilde);
      for (PetscInt i : idx) {
        const PetscReal th = e.values[static_cast<size_t>(i)];
        out.values.push_back(th != 0 ? 1.0 / th : PETSC_INFINITY);
      }
      break;
    }
    case Selector::RgenL:
    case Selector::RgenS:
    case Selector::RgenLLeft: {
      const PetscInt kk = std::min(k, r);
      ytilde = Dense(r, kk);
      for (PetscInt j = 0; j < kk; ++j) {
        const PetscInt i = sel == Selector::RgenS ? r - 1 - j : j;
        const Dense q = qh(i);
        const Dense y = sel == Selector::RgenLLeft ? q : multiply(ainv, q);
        for (PetscInt l = 0; l < r; ++l) ytilde(l, j) = y(l, 0);
        out.values.push_back(gamma(i));
      }
      normalise_columns(ytilde);
      break;
    }
  }
  out.y = multiply(s, ytilde);

  if (k_nsc > 0) {
    // Z = W S Q_H[:, 1..k_z] Γ (§4.3); only directions J can see (γ > 0).
    PetscInt kz = 0;
    const PetscReal g0 = gamma(0);
    while (kz < std::min(k_nsc, r) && gamma(kz) > 1e-14 * g0) ++kz;
    Dense zt(r, kz);
    for (PetscInt j = 0; j < kz; ++j) {
      const Dense q = qh(j);
      for (PetscInt l = 0; l < r; ++l) zt(l, j) = q(l, 0) * gamma(j);
      out.gammas.push_back(gamma(j));
    }
    out.z = multiply(s, zt);
  } else {
    out.z = Dense(n, 0);
  }
  return out;
}

}  // namespace bilearn::krylov
