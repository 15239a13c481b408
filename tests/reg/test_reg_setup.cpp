// Regulariser set-up and parallel consistency: option errors (θ length, type, expert, filter
// files), the DCT bank, the convolution's adjoint and boundary rule against a serial
// natural-order reference, and value/gradient on 1/2/3 ranks against a PETSC_COMM_SELF run.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "bilearn/core/reduce.hpp"
#include "bilearn/reg/convolution.hpp"
#include "bilearn/reg/experts.hpp"
#include "bilearn/reg/filters.hpp"
#include "bilearn/reg/regulariser.hpp"
#include "reg_test_util.hpp"

using namespace regtest;

namespace {

constexpr PetscInt kN = 26;  // not a multiple of 2 or 3: uneven blocks

// Message of the InputError thrown by create_regulariser under options ("" if none).
std::string creation_error(const OptionList& options, PetscInt n = kN) {
  ScopedOptions scoped(options);
  ImageGrid grid(PETSC_COMM_WORLD, n);
  try {
    create_regulariser(grid);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// A file with the given text, written on rank 0; its name on every rank.
std::string text_file(const std::string& text) {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  char name[64] = "/tmp/bilearn_reg_setupXXXXXX";
  if (rank == 0) {
    const int fd = mkstemp(name);
    if (fd >= 0) close(fd);
    std::ofstream(name) << text;
  }
  MPI_Bcast(name, sizeof(name), MPI_CHAR, 0, PETSC_COMM_WORLD);
  return name;
}

TEST(RegSetup, ThetaLengthIsChecked) {
  EXPECT_EQ(creation_error({{"-reg_type", "foe"}, {"-reg_theta", "1,2,3"}}),
            "-reg_theta has 3 values, foe with 8 filters needs 8: log10 w_1..w_8");
  EXPECT_EQ(creation_error({{"-reg_type", "tv"}, {"-reg_theta", "1,2"}}),
            "-reg_theta has 2 values, tv needs 1: log10 w");
  EXPECT_EQ(creation_error({{"-reg_type", "huber_tv"}, {"-reg_tv_learn_gamma", ""}, {"-reg_theta", "1"}}),
            "-reg_theta has 1 values, huber_tv with -reg_tv_learn_gamma needs 2: log10 w, log10 gamma");
  EXPECT_EQ(creation_error({{"-reg_type", "tikhonov"}, {"-reg_theta", "1,2"}}),
            "-reg_theta has 2 values, tikhonov needs 1: log10 w");
  EXPECT_EQ(
      creation_error({{"-reg_type", "foe"}, {"-reg_foe_learn_filters", ""}, {"-reg_theta", "1,2,3"}}),
      "-reg_theta has 3 values, foe with 8 learnable 3x3 filters needs 8 (log10 w_1..w_8; filters from the bank) or "
      "80: log10 w_1..w_8, then c_1..c_8 (9 coefficients each, row-major)");
  EXPECT_EQ(creation_error({{"-reg_type", "tv"}, {"-reg_theta", "-1.5"}}), "");
}

TEST(RegSetup, UnknownTypeAndExpertAreInputErrors) {
  EXPECT_EQ(creation_error({{"-reg_type", "banana"}}),
            "unknown value 'banana' for -reg_type (choose one of tikhonov, tv, huber_tv, foe)");
  EXPECT_EQ(creation_error({{"-reg_type", "foe"}, {"-reg_foe_expert", "cauchy"}}),
            "unknown value 'cauchy' for -reg_foe_expert (choose one of quadratic, huber, l1, lorentzian)");
  EXPECT_EQ(creation_error({{"-reg_type", "tikhonov"}, {"-reg_tikhonov_operator", "laplace"}}),
            "unknown value 'laplace' for -reg_tikhonov_operator (choose one of identity, gradient)");
  EXPECT_EQ(creation_error({{"-reg_type", "tv"}, {"-reg_tv_gamma", "-1"}}).rfind("-reg_tv_gamma must be in", 0), 0u);
}

TEST(RegSetup, FilterFilesAreChecked) {
  EXPECT_EQ(creation_error({{"-reg_type", "foe"}, {"-reg_foe_filters", "file"}}),
            "-reg_foe_filters file needs -reg_foe_filter_file F");
  EXPECT_EQ(
      creation_error(
          {{"-reg_type", "foe"}, {"-reg_foe_filters", "file"}, {"-reg_foe_filter_file", "/nonexistent/filters.txt"}}),
      "cannot open filter file '/nonexistent/filters.txt' (-reg_foe_filter_file)");
  const std::string short_file = text_file("2 3\n1 2 3 4 5 6 7 8 9\n1 2 3\n");
  EXPECT_EQ(creation_error({{"-reg_type", "foe"}, {"-reg_foe_filters", "file"}, {"-reg_foe_filter_file", short_file}}),
            "filter file '" + short_file + "' has 12 coefficients, 2 filters of 3x3 need 18");
  const std::string big_file = text_file("1 7\n" + std::string(49 * 2, ' ').replace(0, 1, "1"));
  EXPECT_EQ(creation_error({{"-reg_type", "foe"}, {"-reg_foe_filters", "file"}, {"-reg_foe_filter_file", big_file}}),
            "filter file '" + big_file + "': need K ≥ 1 filters of odd side k ≤ 5, got K = 1, k = 7");
  const std::string bad_number = text_file("# one filter\n1 3\n1 2 3 4 x 6 7 8 9\n");
  EXPECT_EQ(creation_error({{"-reg_type", "foe"}, {"-reg_foe_filters", "file"}, {"-reg_foe_filter_file", bad_number}}),
            "filter file '" + bad_number + "': 'x' is not a finite number");
  const std::string good = text_file("# two filters\n2 3\n0 0 0 -1 1 0 0 0 0 # dx\n0 -1 0\n0 1 0\n0 0 0\n");
  ScopedOptions scoped({{"-reg_type", "foe"}, {"-reg_foe_filters", "file"}, {"-reg_foe_filter_file", good}});
  ImageGrid grid(PETSC_COMM_WORLD, kN);
  auto reg = create_regulariser(grid);
  EXPECT_EQ(reg->num_params(), 2);
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0)
    for (const auto& f : {short_file, big_file, bad_number, good}) std::remove(f.c_str());
}

TEST(RegSetup, ThetaNamesAndLearnableFilters) {
  ScopedOptions scoped(
      {{"-reg_type", "foe"}, {"-reg_foe_learn_filters", ""}, {"-reg_theta", "-1,-1,-1,-1,-1,-1,-1,-2"}});
  ImageGrid grid(PETSC_COMM_WORLD, kN);
  auto reg = create_regulariser(grid);
  ASSERT_EQ(reg->num_params(), 80);
  const auto names = reg->param_names();
  ASSERT_EQ(names.size(), 80u);
  EXPECT_EQ(names[0], "log10 w_1");
  EXPECT_EQ(names[7], "log10 w_8");
  EXPECT_EQ(names[8], "c_1[0,0]");
  EXPECT_EQ(names[79], "c_8[2,2]");
  const FilterBank bank = dct_filter_bank(3);
  EXPECT_EQ(reg->initial_theta()[7], -2.0);
  for (size_t i = 0; i < 72; ++i) EXPECT_EQ(reg->initial_theta()[8 + i], bank.coeffs[i]);
  EXPECT_THROW(reg->check_theta({1, 2}), InputError);
  std::vector<PetscReal> bad = reg->initial_theta();
  bad[3] = std::nan("");
  EXPECT_THROW(reg->check_theta(bad), NumericalError);
  // θ is an argument: a wrong or non-finite θ given to an evaluation is refused the same way.
  OwnedVec x = grid.create_vec();
  BILEARN_CHECK(VecSet(x, 0.5));
  EXPECT_THROW(reg->value(x, {1, 2}), InputError);
  EXPECT_THROW(reg->set_point(x, bad), NumericalError);
}

// θ is an argument, not state: evaluations at another θ between set_point(x, θa) and the
// products leave H and J at θa (bitwise the same as without them), for every type.
TEST(RegSetup, ProductsStayAtThePointsTheta) {
  const auto x_nat = phantom(kN);
  for (const char* type : {"tikhonov", "tv", "huber_tv", "foe"}) {
    ScopedOptions scoped({{"-reg_type", type}, {"-reg_tv_learn_gamma", ""}});
    ImageGrid grid(PETSC_COMM_WORLD, kN);
    auto reg = create_regulariser(grid);
    OwnedVec x = from_natural(grid, x_nat), v = from_natural(grid, uniform(static_cast<size_t>(kN * kN), 5));
    OwnedVec g = grid.create_vec(), h0 = grid.create_vec(), h1 = grid.create_vec();
    std::vector<PetscReal> theta_a = reg->initial_theta(), theta_b = theta_a, j0, j1;
    for (auto& t : theta_b) t += 0.7;
    reg->set_point(x, theta_a);
    reg->hessian_mult(v, h0);
    reg->mixed_mult(v, j0);
    reg->set_point(x, theta_a);
    const double value_b = reg->value(x, theta_b);
    reg->gradient(x, theta_b, g);
    reg->hessian_mult(v, h1);
    reg->mixed_mult(v, j1);
    BILEARN_CHECK(VecAXPY(h1, -1.0, h0));
    PetscReal diff;
    BILEARN_CHECK(VecNorm(h1, NORM_INFINITY, &diff));
    EXPECT_EQ(diff, 0.0) << type;
    EXPECT_EQ(j0, j1) << type;
    EXPECT_NE(value_b, reg->value(x, theta_a)) << type << ": θ did not reach the evaluation";
  }
}

TEST(RegSetup, DctBankIsZeroMeanAndOrthonormal) {
  for (PetscInt k : {3, 5}) {
    const FilterBank b = dct_filter_bank(k);
    EXPECT_EQ(b.count, k * k - 1);
    for (PetscInt f = 0; f < b.count; ++f) {
      double mean = 0;
      for (PetscInt m = 0; m < b.taps(); ++m) mean += b.coeffs[static_cast<size_t>(f * b.taps() + m)];
      EXPECT_NEAR(mean, 0.0, 1e-14) << "filter " << f;
      for (PetscInt g = 0; g < b.count; ++g) {
        double d = 0;
        for (PetscInt m = 0; m < b.taps(); ++m)
          d += b.coeffs[static_cast<size_t>(f * b.taps() + m)] * b.coeffs[static_cast<size_t>(g * b.taps() + m)];
        EXPECT_NEAR(d, f == g ? 1.0 : 0.0, 1e-14);
      }
    }
  }
}

// ⟨C x, t⟩ = ⟨x, Cᵀ t⟩ with t nonzero everywhere (also where no output exists), and C x
// against the serial valid correlation of the natural image.
TEST(RegSetup, ConvolutionAdjointAndBoundaryRule) {
  for (PetscInt side : {3, 5}) {
    const PetscInt K = 4, r = side / 2, m = kN - side + 1;
    ImageGrid grid(PETSC_COMM_WORLD, kN);
    Convolution conv(grid, K, side);
    const auto filters = uniform(static_cast<size_t>(K * side * side), 21);
    const auto x_nat = uniform(static_cast<size_t>(kN * kN), 22);
    const auto t_nat = uniform(static_cast<size_t>(kN * kN * K), 23);  // [natural pixel][filter]
    OwnedVec x = from_natural(grid, x_nat), y = grid.create_vec();
    OwnedVec xl;
    BILEARN_CHECK(DMCreateLocalVector(grid.dm(), xl.out()));
    BILEARN_CHECK(DMGlobalToLocalBegin(grid.dm(), x, INSERT_VALUES, xl));
    BILEARN_CHECK(DMGlobalToLocalEnd(grid.dm(), x, INSERT_VALUES, xl));
    std::vector<PetscScalar> cx(static_cast<size_t>(grid.local_size() * K));
    conv.forward(xl, filters.data(), cx.data());
    const auto natural = grid.local_natural_indices();
    std::vector<std::vector<double>> ref;
    for (PetscInt f = 0; f < K; ++f) ref.push_back(correlate_valid(x_nat, kN, filters.data() + f * side * side, side));
    double local_dot = 0, worst = 0;
    {
      VecArray t(conv.field());
      for (size_t p = 0; p < natural.size(); ++p) {
        const PetscInt row = natural[p] / kN, col = natural[p] % kN;
        const bool output = row >= r && row < kN - r && col >= r && col < kN - r;
        for (PetscInt f = 0; f < K; ++f) {
          const size_t o = p * static_cast<size_t>(K) + static_cast<size_t>(f);
          t[static_cast<PetscInt>(o)] = t_nat[static_cast<size_t>(natural[p] * K + f)];
          const double expected =
              output ? ref[static_cast<size_t>(f)][static_cast<size_t>((row - r) * m + col - r)] : 0;
          worst = std::max(worst, std::fabs(cx[o] - expected));
          local_dot += cx[o] * t[static_cast<PetscInt>(o)];
        }
      }
    }
    EXPECT_LE(worst, 1e-14) << "forward against the serial valid correlation, side " << side;
    const double lhs = sum_over_ranks(PETSC_COMM_WORLD, local_dot);
    conv.adjoint(filters.data(), y);
    const double rhs = dot(x, y);
    EXPECT_LE(std::fabs(lhs - rhs), 1e-13 * std::fabs(lhs)) << "adjoint, side " << side << ": " << lhs << " vs " << rhs;
  }
}

// The separable kernels of the DCT banks agree with the general ones.
TEST(RegSetup, SeparableKernelsMatchGeneralOnes) {
  for (PetscInt side : {3, 5}) {
    const FilterBank bank = dct_filter_bank(side);
    const PetscInt K = bank.count;
    ImageGrid grid(PETSC_COMM_WORLD, kN);
    Convolution conv(grid, K, side);
    EXPECT_FALSE(conv.separable());
    conv.set_separable(bank.basis, bank.pairs);
    EXPECT_TRUE(conv.separable());
    OwnedVec x = from_natural(grid, uniform(static_cast<size_t>(kN * kN), 31)), xl;
    BILEARN_CHECK(DMCreateLocalVector(grid.dm(), xl.out()));
    BILEARN_CHECK(DMGlobalToLocalBegin(grid.dm(), x, INSERT_VALUES, xl));
    BILEARN_CHECK(DMGlobalToLocalEnd(grid.dm(), x, INSERT_VALUES, xl));
    const size_t m = static_cast<size_t>(grid.local_size() * K);
    std::vector<PetscScalar> general(m), separable(m);
    conv.forward(xl, bank.coeffs.data(), general.data());
    conv.forward_separable(xl, separable.data());
    double worst = 0;
    for (size_t i = 0; i < m; ++i) worst = std::max(worst, std::fabs(general[i] - separable[i]));
    EXPECT_LE(worst, 1e-14) << "forward, side " << side;
    {
      VecArray t(conv.field());
      const auto values = uniform(m, 32 + static_cast<unsigned>(grid.ownership_start()));
      for (size_t i = 0; i < m; ++i) t[static_cast<PetscInt>(i)] = values[i];
    }
    OwnedVec y1 = grid.create_vec(), y2 = grid.create_vec();
    conv.adjoint(bank.coeffs.data(), y1);
    conv.adjoint_separable(y2);
    const double scale = norm(y1);
    BILEARN_CHECK(VecAXPY(y2, -1.0, y1));
    EXPECT_LE(norm(y2), 1e-14 * scale) << "adjoint, side " << side;
  }
}

struct Config {
  const char* label;
  OptionList options;
};

const Config kConfigs[] = {
    {"tikhonov_gradient", {{"-reg_type", "tikhonov"}, {"-reg_tikhonov_operator", "gradient"}, {"-reg_theta", "-1"}}},
    {"tv", {{"-reg_type", "tv"}, {"-reg_theta", "-1.3"}}},
    {"huber_tv", {{"-reg_type", "huber_tv"}, {"-reg_tv_learn_gamma", ""}, {"-reg_theta", "-1,-1.7"}}},
    {"foe_dct3_l1", {{"-reg_type", "foe"}, {"-reg_foe_expert", "l1"}, {"-reg_theta", "-1,-2,-1,-2,-1,-2,-1,-0.5"}}},
    {"foe_dct5_lorentzian", {{"-reg_type", "foe"}, {"-reg_foe_filters", "dct5"}, {"-reg_foe_expert", "lorentzian"}}},
    {"foe_dct3_huber_learn",
     {{"-reg_type", "foe"}, {"-reg_foe_expert", "huber"}, {"-reg_foe_learn_filters", ""}, {"-reg_foe_gamma", "0.03"}}},
};

// Value and gradient with all ranks equal (1e-12 relative) a PETSC_COMM_SELF computation.
TEST(RegSetup, ValueAndGradientDoNotDependOnRanks) {
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  const auto x_nat = phantom(kN);
  for (const Config& c : kConfigs) {
    ScopedOptions scoped(c.options);
    ImageGrid grid(PETSC_COMM_WORLD, kN), self(PETSC_COMM_SELF, kN);
    auto reg = create_regulariser(grid);
    auto reg_self = create_regulariser(self);
    OwnedVec x = from_natural(grid, x_nat), xs = from_natural(self, x_nat);
    OwnedVec g = grid.create_vec(), gs = self.create_vec();
    const double v = reg->value(x, reg->initial_theta()), vs = reg_self->value(xs, reg_self->initial_theta());
    EXPECT_LE(std::fabs(v - vs), 1e-12 * std::fabs(vs)) << c.label << " value " << v << " vs " << vs;
    reg->gradient(x, reg->initial_theta(), g);
    reg_self->gradient(xs, reg_self->initial_theta(), gs);
    const auto g_nat = grid.gather_natural(g);  // rank 0 only
    const auto gs_nat = self.gather_natural(gs);
    if (rank == 0) {
      double worst = 0, scale = 0;
      for (size_t i = 0; i < gs_nat.size(); ++i) {
        worst = std::max(worst, std::fabs(g_nat[i] - gs_nat[i]));
        scale = std::max(scale, std::fabs(gs_nat[i]));
      }
      EXPECT_LE(worst, 1e-12 * scale) << c.label << " gradient";
    }
    const auto t = reg->theta_gradient(x, reg->initial_theta()),
               ts = reg_self->theta_gradient(xs, reg_self->initial_theta());
    for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], ts[i], 1e-12 * std::fabs(ts[i]) + 1e-14) << c.label;
  }
}

// Values against formulas evaluated here on the natural image (boundary rules, orientation).
TEST(RegSetup, ValuesMatchSerialFormulas) {
  const auto x_nat = phantom(kN);
  ImageGrid grid(PETSC_COMM_WORLD, kN);
  OwnedVec x = from_natural(grid, x_nat);
  {
    ScopedOptions scoped({{"-reg_type", "tv"}, {"-reg_theta", "-1"}, {"-reg_tv_gamma", "0.02"}});
    auto reg = create_regulariser(grid);
    double ref = 0;
    for (double t : gradient_norms(x_nat, kN)) ref += 0.1 * std::sqrt(t * t + 0.02 * 0.02);
    EXPECT_NEAR(reg->value(x, reg->initial_theta()), ref, 1e-13 * ref);
  }
  {
    ScopedOptions scoped({{"-reg_type", "huber_tv"}, {"-reg_theta", "0"}, {"-reg_tv_gamma", "0.05"}});
    auto reg = create_regulariser(grid);
    double ref = 0;
    for (double t : gradient_norms(x_nat, kN)) ref += t <= 0.05 ? t * t / 0.1 : t - 0.025;
    EXPECT_NEAR(reg->value(x, reg->initial_theta()), ref, 1e-13 * ref);
  }
  {
    ScopedOptions scoped({{"-reg_type", "tikhonov"}, {"-reg_theta", "0.5"}});
    auto reg = create_regulariser(grid);
    double ref = 0;
    for (double v : x_nat) ref += 0.5 * std::pow(10.0, 0.5) * v * v;
    EXPECT_NEAR(reg->value(x, reg->initial_theta()), ref, 1e-13 * ref);
  }
  for (const char* expert : {"quadratic", "huber", "l1", "lorentzian"}) {
    ScopedOptions scoped({{"-reg_type", "foe"},
                          {"-reg_foe_filters", "dct5"},
                          {"-reg_foe_expert", expert},
                          {"-reg_foe_gamma", "0.04"},
                          {"-reg_theta", "-1"}});
    EXPECT_EQ(creation_error({}), "-reg_theta has 1 values, foe with 24 filters needs 24: log10 w_1..w_24");
    PetscOptionsClearValue(nullptr, "-reg_theta");
    auto reg = create_regulariser(grid);
    const FilterBank bank = dct_filter_bank(5);
    const Expert phi(Expert::parse(expert), 0.04);
    double ref = 0;
    for (PetscInt f = 0; f < bank.count; ++f)
      for (double z : correlate_valid(x_nat, kN, bank.coeffs.data() + f * 25, 5)) ref += 0.01 * phi(z).phi;
    EXPECT_NEAR(reg->value(x, reg->initial_theta()), ref, 1e-13 * ref) << expert;
  }
}

}  // namespace
