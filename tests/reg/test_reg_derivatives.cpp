// Derivatives of every regulariser and expert against central finite differences (step
// 1e-6 on images in [0, 1] and on θ), several random directions: ∇_x R against R, the
// Hessian product against ∇_x R, ∂_θ R against R, J v against ∂_θ ∇_x R, plus Jᵀ against J,
// Hessian symmetry and the Hessian diagonal against e_iᵀ H e_i. Huber cases pick γ in a gap
// of the values |t| so that no finite-difference step crosses the kink of h_γ.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "bilearn/reg/filters.hpp"
#include "bilearn/reg/regulariser.hpp"
#include "reg_test_util.hpp"

using namespace regtest;

namespace {

constexpr PetscInt kN = 24;
constexpr double kStep = 1e-6;
constexpr double kTol = 1e-6;  // finite-difference agreement
constexpr double kExact = 1e-12;

enum class Kink { none, tv, foe };

struct Case {
  std::string label;
  OptionList options;
  Kink kink = Kink::none;
  PetscInt dct = 0;  // foe: 3 or 5, 0 = random filters from a file
  bool learn_filters = false;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.label;
}

// Writes K random k×k filters to a temporary file on rank 0; returns its name on all ranks.
std::string write_filter_file(const std::vector<double>& coeffs, PetscInt count, PetscInt side) {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  char name[64] = "/tmp/bilearn_reg_filtersXXXXXX";
  if (rank == 0) {
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    std::ofstream out(name);
    out << "# test filters\n" << count << " " << side << "\n";
    out.precision(17);
    for (size_t i = 0; i < coeffs.size(); ++i) out << coeffs[i] << ((i + 1) % side ? " " : "\n");
  }
  MPI_Bcast(name, sizeof(name), MPI_CHAR, 0, PETSC_COMM_WORLD);
  return name;
}

class RegDerivatives : public ::testing::TestWithParam<Case> {};

// Central difference of f along a step of size kStep.
template <class F>
double central(F&& f) {
  return (f(kStep) - f(-kStep)) / (2 * kStep);
}

void check_derivatives(Regulariser& reg, const ImageGrid& grid, const std::vector<double>& x_nat,
                       const std::vector<PetscReal>& theta0, const std::string& label) {
  const PetscInt n = grid.n();
  const size_t pixels = static_cast<size_t>(n * n);
  OwnedVec x = from_natural(grid, x_nat);
  OwnedVec g = grid.create_vec(), xs = grid.create_vec(), gp = grid.create_vec(), gm = grid.create_vec();
  OwnedVec hd = grid.create_vec(), fd = grid.create_vec();
  reg.gradient(x, theta0, g);
  reg.set_point(x, theta0);

  for (unsigned dir = 0; dir < 3; ++dir) {
    OwnedVec d = from_natural(grid, uniform(pixels, 100 + dir));
    // ∇_x R against R.
    const double fd_value = central([&](double h) {
      BILEARN_CHECK(VecWAXPY(xs, h, d, x));
      return reg.value(xs, theta0);
    });
    const double an = dot(g, d);
    EXPECT_LE(std::fabs(fd_value - an), kTol * std::fabs(an)) << label << " gradient, direction " << dir;
    // Hessian product against ∇_x R.
    BILEARN_CHECK(VecWAXPY(xs, kStep, d, x));
    reg.gradient(xs, theta0, gp);
    BILEARN_CHECK(VecWAXPY(xs, -kStep, d, x));
    reg.gradient(xs, theta0, gm);
    BILEARN_CHECK(VecWAXPY(fd, -1.0, gm, gp));
    BILEARN_CHECK(VecScale(fd, 1.0 / (2 * kStep)));
    reg.hessian_mult(d, hd);
    const double hnorm = norm(hd);
    BILEARN_CHECK(VecAXPY(fd, -1.0, hd));
    EXPECT_LE(norm(fd), kTol * hnorm) << label << " Hessian, direction " << dir;
  }

  // Symmetry ⟨H u, v⟩ = ⟨u, H v⟩.
  {
    OwnedVec u = from_natural(grid, uniform(pixels, 7)), v = from_natural(grid, uniform(pixels, 8));
    OwnedVec hu = grid.create_vec(), hv = grid.create_vec();
    reg.hessian_mult(u, hu);
    reg.hessian_mult(v, hv);
    EXPECT_LE(std::fabs(dot(hu, v) - dot(u, hv)), kExact * norm(hu) * norm(v)) << label << " symmetry";
  }

  // Diagonal against e_iᵀ H e_i at corners, edges and inside.
  {
    OwnedVec diag = grid.create_vec(), e = grid.create_vec(), he = grid.create_vec();
    reg.hessian_diagonal(diag);
    PetscReal dmax = 0;
    BILEARN_CHECK(VecNorm(diag, NORM_INFINITY, &dmax));
    const PetscInt probes[] = {0,         n - 1, n * (n - 1),         n * n - 1,    n + 1,
                               2 * n + 2, 3,     (n / 2) * n + n / 2, n * n - n - 2};
    for (PetscInt k : probes) {
      const PetscInt idx = grid.petsc_indices(k, k + 1)[0];
      BILEARN_CHECK(VecSet(e, 0.0));
      if (idx >= grid.ownership_start() && idx < grid.ownership_start() + grid.local_size())
        BILEARN_CHECK(VecSetValue(e, idx, 1.0, INSERT_VALUES));
      BILEARN_CHECK(VecAssemblyBegin(e));
      BILEARN_CHECK(VecAssemblyEnd(e));
      reg.hessian_mult(e, he);
      const double ehe = dot(e, he), di = dot(e, diag);
      EXPECT_LE(std::fabs(ehe - di), kExact * std::max(1.0, dmax)) << label << " diagonal at natural pixel " << k;
    }
  }

  // θ: ∂_θ R against R and J v against ∂_θ ∇_x R, along unit and random directions.
  const size_t p = theta0.size();
  const std::vector<PetscReal> dtheta = reg.theta_gradient(x, theta0);
  OwnedVec v = from_natural(grid, uniform(pixels, 9));
  std::vector<PetscReal> jv;
  reg.mixed_mult(v, jv);
  EXPECT_EQ(jv.size(), p) << label;
  double dmax = 0, jmax = 0;
  for (size_t i = 0; i < p; ++i) {
    dmax = std::max(dmax, std::fabs(dtheta[i]));
    jmax = std::max(jmax, std::fabs(jv[i]));
  }
  std::vector<std::vector<PetscReal>> directions;
  const size_t stride = p <= 100 ? 1 : p / 30;
  for (size_t i = 0; i < p; i += stride) {
    directions.emplace_back(p, 0.0);
    directions.back()[i] = 1.0;
  }
  for (unsigned s = 0; s < 3; ++s) directions.push_back(uniform(p, 200 + s));
  for (const auto& eta : directions) {
    auto shifted = [&](double h) {
      std::vector<PetscReal> t = theta0;
      for (size_t i = 0; i < p; ++i) t[i] += h * eta[i];
      return t;
    };
    const double fd_theta = central([&](double h) { return reg.value(x, shifted(h)); });
    const double fd_mixed = central([&](double h) {
      reg.gradient(x, shifted(h), gp);
      return dot(gp, v);
    });
    double an_theta = 0, an_mixed = 0, scale = 0;
    for (size_t i = 0; i < p; ++i) {
      an_theta += dtheta[i] * eta[i];
      an_mixed += jv[i] * eta[i];
      scale += std::fabs(eta[i]);
    }
    EXPECT_LE(std::fabs(fd_theta - an_theta), kTol * std::fabs(an_theta) + 1e-9 * dmax * scale)
        << label << " theta_gradient, fd " << fd_theta << " analytic " << an_theta;
    EXPECT_LE(std::fabs(fd_mixed - an_mixed), kTol * std::fabs(an_mixed) + 1e-9 * jmax * scale)
        << label << " mixed_mult, fd " << fd_mixed << " analytic " << an_mixed;
  }
  // The products stay at the point's θ whatever θ the evaluations above were given.

  // Jᵀ against J: ⟨J v, ω⟩ = ⟨v, Jᵀ ω⟩.
  {
    const std::vector<PetscReal> omega = uniform(p, 300);
    OwnedVec jt = grid.create_vec();
    reg.mixed_mult(v, jv);
    reg.mixed_mult_transpose(omega, jt);
    double lhs = 0, wnorm = 0, jnorm = 0;
    for (size_t i = 0; i < p; ++i) {
      lhs += jv[i] * omega[i];
      wnorm += omega[i] * omega[i];
      jnorm += jv[i] * jv[i];
    }
    EXPECT_LE(std::fabs(lhs - dot(v, jt)), kExact * (std::sqrt(jnorm * wnorm) + norm(jt) * norm(v)))
        << label << " mixed_mult_transpose";
  }
}

TEST_P(RegDerivatives, AgreeWithFiniteDifferences) {
  const Case& c = GetParam();
  ImageGrid grid(PETSC_COMM_WORLD, kN);
  const std::vector<double> x = phantom(kN);
  OptionList options = c.options;

  // Filters the test will set in θ (foe): the bank, perturbed when learnable.
  FilterBank bank;
  if (c.dct) bank = dct_filter_bank(c.dct);
  if (!c.dct && c.kink != Kink::tv && c.options.size() && c.options[0].second == "foe") {
    bank.count = 3;
    bank.side = 5;
    bank.coeffs = uniform(75, 11, -0.3, 0.3);
    options.push_back({"-reg_foe_filters", "file"});
    options.push_back({"-reg_foe_filter_file", write_filter_file(bank.coeffs, 3, 5)});
  }
  std::vector<double> filters = bank.coeffs;
  if (c.learn_filters) {
    const auto noise = uniform(filters.size(), 12, -0.05, 0.05);
    for (size_t i = 0; i < filters.size(); ++i) filters[i] += noise[i];
  }

  // Huber: γ away from every |t| the regulariser sees.
  if (c.kink != Kink::none) {
    std::vector<double> values;
    if (c.kink == Kink::tv) values = gradient_norms(x, kN);
    for (PetscInt f = 0; c.kink == Kink::foe && f < bank.count; ++f) {
      const auto z = correlate_valid(x, kN, filters.data() + f * bank.taps(), bank.side);
      values.insert(values.end(), z.begin(), z.end());
    }
    double margin = 0;
    const double gamma = gamma_between(values, margin);
    EXPECT_GT(margin, 2e-5 * std::max(1.0, gamma)) << c.label << ": the kink is too close to the data";
    char text[64];
    std::snprintf(text, sizeof(text), "%.17g", gamma);
    options.push_back({c.kink == Kink::tv ? "-reg_tv_gamma" : "-reg_foe_gamma", text});
  }

  ScopedOptions scoped(options);
  std::unique_ptr<Regulariser> reg = create_regulariser(grid);
  std::vector<PetscReal> theta = reg->initial_theta();
  const size_t weights = c.dct || bank.count ? static_cast<size_t>(bank.count) : 1;
  for (size_t i = 0; i < weights; ++i) theta[i] = -1.0 + 0.3 * std::sin(1.0 + i);
  if (c.learn_filters) std::copy(filters.begin(), filters.end(), theta.begin() + static_cast<long>(weights));
  check_derivatives(*reg, grid, x, theta, c.label);
}

const Case kCases[] = {
    {"tikhonov_identity", {{"-reg_type", "tikhonov"}}},
    {"tikhonov_gradient", {{"-reg_type", "tikhonov"}, {"-reg_tikhonov_operator", "gradient"}}},
    {"tv", {{"-reg_type", "tv"}}},
    {"tv_learn_gamma", {{"-reg_type", "tv"}, {"-reg_tv_learn_gamma", ""}, {"-reg_tv_gamma", "0.02"}}},
    {"huber_tv", {{"-reg_type", "huber_tv"}}, Kink::tv},
    {"huber_tv_learn_gamma", {{"-reg_type", "huber_tv"}, {"-reg_tv_learn_gamma", ""}}, Kink::tv},
    {"foe_dct3_quadratic", {{"-reg_type", "foe"}, {"-reg_foe_expert", "quadratic"}}, Kink::none, 3},
    {"foe_dct3_huber", {{"-reg_type", "foe"}, {"-reg_foe_expert", "huber"}}, Kink::foe, 3},
    {"foe_dct3_l1", {{"-reg_type", "foe"}, {"-reg_foe_expert", "l1"}}, Kink::none, 3},
    {"foe_dct3_lorentzian",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "lorentzian"}, {"-reg_foe_gamma", "0.05"}},
     Kink::none,
     3},
    {"foe_dct5_l1", {{"-reg_type", "foe"}, {"-reg_foe_filters", "dct5"}, {"-reg_foe_expert", "l1"}}, Kink::none, 5},
    {"foe_dct3_quadratic_learn",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "quadratic"}, {"-reg_foe_learn_filters", ""}},
     Kink::none,
     3,
     true},
    {"foe_dct3_huber_learn",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "huber"}, {"-reg_foe_learn_filters", ""}},
     Kink::foe,
     3,
     true},
    {"foe_dct3_l1_learn",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "l1"}, {"-reg_foe_learn_filters", ""}},
     Kink::none,
     3,
     true},
    {"foe_dct3_lorentzian_learn",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "lorentzian"}, {"-reg_foe_learn_filters", ""}},
     Kink::none,
     3,
     true},
    {"foe_dct5_lorentzian_learn",
     {{"-reg_type", "foe"},
      {"-reg_foe_filters", "dct5"},
      {"-reg_foe_expert", "lorentzian"},
      {"-reg_foe_gamma", "0.03"},
      {"-reg_foe_learn_filters", ""}},
     Kink::none,
     5,
     true},
    {"foe_file_l1_learn",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "l1"}, {"-reg_foe_learn_filters", ""}},
     Kink::none,
     0,
     true},
};

INSTANTIATE_TEST_SUITE_P(AllTypes, RegDerivatives, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.label; });

}  // namespace

namespace {

// H v of a regulariser at its last set_point, into a new vector.
OwnedVec hessian_product(Regulariser& reg, const ImageGrid& grid, Vec v) {
  OwnedVec y = grid.create_vec();
  reg.hessian_mult(v, y);
  return y;
}

double relative_gap(Vec a, Vec b) {
  OwnedVec d;
  BILEARN_CHECK(VecDuplicate(a, d.out()));
  BILEARN_CHECK(VecWAXPY(d, -1.0, b, a));
  return norm(d) / norm(b);
}

// Primal–dual Newton (docs/algorithms.md §4.8), foe with the l1 expert and smoothed tv: at the
// first point the products are the true Hessian's (u = φ'(C x)); after a large step u lags
// behind, the products differ from the true ones yet stay symmetric and positive, the mixed
// products do not change, and after end_dual_newton the products are the true Hessian's again.
class DualNewton : public ::testing::TestWithParam<OptionList> {};

TEST_P(DualNewton, ProductsComeFromTheDualVariable) {
  ImageGrid grid(PETSC_COMM_WORLD, kN);
  ScopedOptions scoped(GetParam());
  std::unique_ptr<Regulariser> dual = create_regulariser(grid, false), plain = create_regulariser(grid, false);
  const std::vector<PetscReal> theta = dual->initial_theta();
  const std::vector<double> natural = phantom(kN), noise = uniform(natural.size(), 41, -0.3, 0.3);
  std::vector<double> moved = natural;
  for (size_t i = 0; i < moved.size(); ++i) moved[i] += noise[i];
  OwnedVec x0 = from_natural(grid, natural), x1 = from_natural(grid, moved);
  OwnedVec v = from_natural(grid, uniform(natural.size(), 42)), w = from_natural(grid, uniform(natural.size(), 43));

  ASSERT_TRUE(dual->begin_dual_newton());
  dual->set_point(x0, theta);
  plain->set_point(x0, theta);
  EXPECT_LT(relative_gap(hessian_product(*dual, grid, v), hessian_product(*plain, grid, v)), 1e-13)
      << "the first Newton system must be the plain one";

  for (Vec x : {static_cast<Vec>(x1), static_cast<Vec>(x0), static_cast<Vec>(x1)}) {  // steps there and back
    dual->set_point(x, theta);
    plain->set_point(x, theta);
    OwnedVec hv = hessian_product(*dual, grid, v), hw = hessian_product(*dual, grid, w);
    EXPECT_NEAR(dot(hv, w), dot(v, hw), kExact * norm(hv) * norm(w)) << "symmetric";
    EXPECT_GT(dot(hv, v), 0.0) << "positive";
  }
  OwnedVec hv_dual = hessian_product(*dual, grid, v), hv_plain = hessian_product(*plain, grid, v);
  EXPECT_GT(relative_gap(hv_dual, hv_plain), 1e-3) << "after a large step the dual variable must lag";
  std::vector<PetscReal> jv_dual, jv_plain;
  dual->mixed_mult(v, jv_dual);
  plain->mixed_mult(v, jv_plain);
  for (size_t i = 0; i < jv_plain.size(); ++i)
    EXPECT_NEAR(jv_dual[i], jv_plain[i], kExact * std::fabs(jv_plain[i]) + 1e-300) << "J v, row " << i;

  dual->end_dual_newton();
  EXPECT_LT(relative_gap(hessian_product(*dual, grid, v), hv_plain), 1e-13) << "after end: the true Hessian";
}

INSTANTIATE_TEST_SUITE_P(
    DualForms, DualNewton,
    ::testing::Values(OptionList{{"-reg_type", "foe"}, {"-reg_foe_expert", "l1"}, {"-reg_foe_gamma", "0.01"}},
                      OptionList{{"-reg_type", "tv"}, {"-reg_tv_gamma", "0.01"}},
                      OptionList{{"-reg_type", "tv"}, {"-reg_tv_learn_gamma", ""}, {"-reg_tv_gamma", "0.02"}}),
    [](const ::testing::TestParamInfo<OptionList>& info) {
      return info.param.front().second + std::to_string(info.index);
    });

// Experts without a dual form decline, and their products stay the true Hessian's.
TEST(DualNewtonDeclined, OtherRegularisersKeepTheTrueHessian) {
  ImageGrid grid(PETSC_COMM_WORLD, kN);
  for (const OptionList& options : {OptionList{{"-reg_type", "huber_tv"}}, OptionList{{"-reg_type", "tikhonov"}},
                                    OptionList{{"-reg_type", "foe"}, {"-reg_foe_expert", "huber"}},
                                    OptionList{{"-reg_type", "foe"}, {"-reg_foe_expert", "lorentzian"}}}) {
    ScopedOptions scoped(options);
    std::unique_ptr<Regulariser> reg = create_regulariser(grid, false), plain = create_regulariser(grid, false);
    EXPECT_FALSE(reg->begin_dual_newton()) << options.back().second;
    const std::vector<PetscReal> theta = reg->initial_theta();
    OwnedVec x0 = from_natural(grid, phantom(kN)), v = from_natural(grid, uniform(static_cast<size_t>(kN * kN), 44));
    OwnedVec x1 = from_natural(grid, uniform(static_cast<size_t>(kN * kN), 45, 0, 1));
    reg->set_point(x0, theta);
    reg->set_point(x1, theta);
    plain->set_point(x1, theta);
    EXPECT_LT(relative_gap(hessian_product(*reg, grid, v), hessian_product(*plain, grid, v)), 1e-14)
        << options.back().second;
    reg->end_dual_newton();
  }
}

}  // namespace
