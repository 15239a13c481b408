// The small dense problems of the recycle-space selection (docs/algorithms.md §4.2–4.3) against
// hand-made cases whose answers are known: Ritz and harmonic Ritz values, the generalised
// problem for a non-orthonormal W, Ritz generalised singular vectors and the NSC block.
#include <gtest/gtest.h>

#include <cmath>

#include "bilearn/core/error.hpp"
#include "krylov/recycle/selector.hpp"
#include "problems.hpp"

using namespace bilearn::krylov;

namespace {

Dense random_dense(PetscInt m, PetscInt n, std::uint64_t seed) {
  Dense d(m, n);
  for (PetscInt j = 0; j < n; ++j)
    for (PetscInt i = 0; i < m; ++i) d(i, j) = krylov_test::hash01(i + 1000 * j, seed) - 0.5;
  return d;
}

Dense diag(const std::vector<double>& v) {
  Dense d(static_cast<PetscInt>(v.size()), static_cast<PetscInt>(v.size()));
  for (size_t i = 0; i < v.size(); ++i) d(static_cast<PetscInt>(i), static_cast<PetscInt>(i)) = v[i];
  return d;
}

// The unit vector index each column of y is (up to sign), or -1.
std::vector<int> unit_columns(const Dense& y) {
  std::vector<int> out;
  for (PetscInt j = 0; j < y.cols(); ++j) {
    int found = -1;
    for (PetscInt i = 0; i < y.rows(); ++i)
      if (std::abs(std::abs(y(i, j)) - 1.0) < 1e-12) found = static_cast<int>(i);
    out.push_back(found);
  }
  return out;
}

double spectral_norm(const Dense& m) {
  const SymEig e = sym_eig(multiply(m, m, true, false));
  return std::sqrt(std::max(0.0, e.values.back()));
}

}  // namespace

TEST(Selector, RitzPicksByMagnitudeFromEitherEnd) {
  SmallProblem p;
  p.G = Dense::identity(6);
  p.A = diag({-3, 1, 2, 5, -0.5, 10});
  Selection s = select_space(p, Selector::RitzS, 2, 0);
  EXPECT_EQ(unit_columns(s.y), (std::vector<int>{4, 1}));
  EXPECT_DOUBLE_EQ(s.values[0], -0.5);
  s = select_space(p, Selector::RitzL, 2, 0);
  EXPECT_EQ(unit_columns(s.y), (std::vector<int>{5, 3}));
  s = select_space(p, Selector::RitzBoth, 3, 0);
  EXPECT_EQ(unit_columns(s.y), (std::vector<int>{4, 1, 5}));
  EXPECT_EQ(s.rank, 6);
}

TEST(Selector, NonOrthonormalBasisSolvesTheGeneralisedProblem) {
  const PetscInt n = 8;
  const Dense m = random_dense(n, n, 7);
  SmallProblem p;
  p.G = multiply(m, m, true, false);  // W = Q M for some orthonormal Q
  Dense a = random_dense(n, n, 8);
  p.A = multiply(a, a, true, false);
  for (PetscInt i = 0; i < n; ++i) p.A(i, i) -= 0.3;
  const Selection s = select_space(p, Selector::RitzBoth, 4, 0);
  ASSERT_EQ(s.y.cols(), 4);
  for (PetscInt j = 0; j < 4; ++j) {
    Dense y = s.y.block(0, j, n, 1);
    const Dense ay = multiply(p.A, y), gy = multiply(p.G, y);
    double res = 0, norm = 0;
    for (PetscInt i = 0; i < n; ++i) {
      res += std::pow(ay(i, 0) - s.values[j] * gy(i, 0), 2);
      norm += y(i, 0) * gy(i, 0);
    }
    EXPECT_LT(std::sqrt(res), 1e-10 * (1 + std::abs(s.values[j]))) << "A y != λ G y for column " << j;
    EXPECT_NEAR(norm, 1.0, 1e-12) << "‖W y‖ != 1";
  }
}

TEST(Selector, DependentBasisIsTruncated) {
  const Dense m = random_dense(5, 5, 9);
  Dense w(5, 6);  // the last column repeats the first
  w.set_block(0, 0, m);
  for (PetscInt i = 0; i < 5; ++i) w(i, 5) = m(i, 0);
  SmallProblem p;
  p.G = multiply(w, w, true, false);
  p.A = Dense::identity(6);
  const Selection s = select_space(p, Selector::RitzS, 6, 0);
  EXPECT_EQ(s.rank, 5);
  EXPECT_EQ(s.y.cols(), 5);
}

TEST(Selector, HarmonicRitzValuesOfAnOrthonormalEigenbasis) {
  // W = eigenvectors of H: WᵀHW = Λ, (HW)ᵀ(HW) = Λ² — harmonic Ritz values are the eigenvalues.
  SmallProblem p;
  p.G = Dense::identity(5);
  p.A = diag({4, -2, 0.5, 8, 1.5});
  p.K = multiply(p.A, p.A);
  Selection s = select_space(p, Selector::HRitzS, 2, 0);
  EXPECT_EQ(unit_columns(s.y), (std::vector<int>{2, 4}));
  EXPECT_NEAR(s.values[0], 0.5, 1e-12);
  EXPECT_NEAR(s.values[1], 1.5, 1e-12);
  s = select_space(p, Selector::HRitzL, 1, 0);
  EXPECT_EQ(unit_columns(s.y), (std::vector<int>{3}));
  EXPECT_NEAR(s.values[0], 8.0, 1e-12);
}

TEST(Selector, RitzGeneralisedSingularVectorsAndNsc) {
  const PetscInt n = 7, p = 3;
  SmallProblem prob;
  prob.G = Dense::identity(n);
  Dense a = random_dense(n, n, 10);
  prob.A = multiply(a, a, true, false);
  for (PetscInt i = 0; i < n; ++i) prob.A(i, i) += 0.5;  // SPD
  prob.JW = random_dense(p, n, 11);
  // G = J A⁻¹ explicitly
  const SymEig ae = sym_eig(prob.A);
  Dense ainv(n, n);
  for (PetscInt k = 0; k < n; ++k)
    for (PetscInt i = 0; i < n; ++i)
      for (PetscInt j = 0; j < n; ++j) ainv(i, j) += ae.vectors(i, k) * ae.vectors(j, k) / ae.values[k];
  const Dense g = multiply(prob.JW, ainv);
  const double gamma1 = spectral_norm(g);

  // rgen_l_left: the top right singular vector q₁ of G, ‖G q₁‖ = γ₁
  Selection s = select_space(prob, Selector::RgenLLeft, 1, 0);
  const Dense q1 = s.y.block(0, 0, n, 1);
  EXPECT_NEAR(spectral_norm(multiply(g, q1)), gamma1, 1e-10 * gamma1);
  EXPECT_NEAR(s.values[0], gamma1, 1e-10 * gamma1);
  // rgen_l: y ∝ A⁻¹ q₁
  s = select_space(prob, Selector::RgenL, 1, 0);
  const Dense y = s.y.block(0, 0, n, 1), aq = multiply(ainv, q1);
  const double cosine = std::abs(multiply(y, aq, true, false)(0, 0)) / (spectral_norm(y) * spectral_norm(aq));
  EXPECT_NEAR(cosine, 1.0, 1e-10);

  // NSC with all p directions: ‖Zᵀ r‖ = ‖J A⁻¹ r‖ exactly (W = I here)
  s = select_space(prob, Selector::RitzS, 2, p);
  ASSERT_EQ(s.z.cols(), p);
  for (int trial = 0; trial < 3; ++trial) {
    const Dense r = random_dense(n, 1, 20 + trial);
    const double est = spectral_norm(multiply(s.z, r, true, false));
    const double exact = spectral_norm(multiply(g, r));
    EXPECT_NEAR(est, exact, 1e-10 * exact);
  }
}

TEST(Selector, UnknownNameIsAnInputError) {
  EXPECT_THROW(parse_selector("ritz_middle"), bilearn::InputError);
  EXPECT_EQ(parse_selector("rgen_l_left"), Selector::RgenLLeft);
  EXPECT_STREQ(selector_name(Selector::HRitzS), "hritz_s");
}
