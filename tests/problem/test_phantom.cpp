// Phantoms, noise and generated training sets: values against analytic ones, statistics of
// the noise, and bitwise rank-count invariance (parallel result against a serial
// recomputation on PETSC_COMM_SELF).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/problem/dataset.hpp"
#include "bilearn/problem/natural_order.hpp"
#include "bilearn/problem/noise.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/problem/phantom.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace bilearn_test;

namespace {

// Data in natural rows: row r sums `width` pixels chosen from r with inexact weights, so
// that rows have many products and off-process columns on several ranks.
ForwardModel mixing_model(const ImageGrid& grid, PetscInt rows, PetscInt width = 40) {
  ForwardModel m;
  m.name = "test mixing";
  m.data_rows = rows;
  m.data_cols = 1;
  const PetscInt N = grid.pixels();
  BILEARN_CHECK(
      MatCreateAIJ(grid.comm(), PETSC_DECIDE, grid.local_size(), rows, N, width, nullptr, width, nullptr, m.A.out()));
  BILEARN_CHECK(MatSetOption(m.A, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  PetscInt r0 = 0, r1 = 0;
  BILEARN_CHECK(MatGetOwnershipRange(m.A, &r0, &r1));
  AO ao;
  BILEARN_CHECK(DMDAGetAO(grid.dm(), &ao));
  std::vector<PetscInt> cols(static_cast<size_t>(width));
  std::vector<PetscScalar> vals(static_cast<size_t>(width));
  for (PetscInt r = r0; r < r1; ++r) {
    for (PetscInt k = 0; k < width; ++k) {
      cols[static_cast<size_t>(k)] = (r * 31 + k * (N / width + 1)) % N;
      vals[static_cast<size_t>(k)] = 0.3 + 0.1 * k + 1e-3 * static_cast<double>(r % 11) + 1.0 / 3.0;
    }
    BILEARN_CHECK(AOApplicationToPetsc(ao, width, cols.data()));
    BILEARN_CHECK(MatSetValues(m.A, 1, &r, width, cols.data(), vals.data(), ADD_VALUES));
  }
  // AO calls are collective-free, but the assembly is collective.
  BILEARN_CHECK(MatAssemblyBegin(m.A, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(m.A, MAT_FINAL_ASSEMBLY));
  return m;
}

bool bitwise_equal(const std::vector<PetscScalar>& a, const std::vector<PetscScalar>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(PetscScalar)) == 0;
}

std::vector<PetscScalar> serial_phantom(const Phantom& p, PetscInt n) {
  std::vector<PetscScalar> v(static_cast<size_t>(n * n));
  for (PetscInt r = 0; r < n; ++r)
    for (PetscInt c = 0; c < n; ++c) {
      double x, y;
      pixel_centre(n, r, c, &x, &y);
      v[static_cast<size_t>(r * n + c)] = p.value(x, y);
    }
  return v;
}

}  // namespace

TEST(Phantom, IdenticalOnAnyRankCountAndAgainstSerialRecomputation) {
  const PetscInt n = 37;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  for (const std::string& kind : phantom_kinds()) {
    for (PetscInt sample : {0, 1}) {
      const Phantom p = make_phantom(kind, 5, sample);
      OwnedVec x = grid.create_vec();
      fill_phantom(grid, p, x);
      const std::uint64_t sum = natural_checksum(x, grid.local_natural_indices());
      const std::vector<PetscScalar> gathered = grid.gather_natural(x);
      if (world_rank() == 0) {
        EXPECT_TRUE(bitwise_equal(gathered, serial_phantom(p, n))) << kind << " sample " << sample;
        ImageGrid self(PETSC_COMM_SELF, n);
        OwnedVec xs = self.create_vec();
        fill_phantom(self, make_phantom(kind, 5, sample), xs);
        EXPECT_EQ(sum, natural_checksum(xs, self.local_natural_indices())) << kind;
        const auto [lo, hi] = std::minmax_element(gathered.begin(), gathered.end());
        EXPECT_GE(*lo, 0.0) << kind;
        EXPECT_LE(*hi, 1.0) << kind;
        EXPECT_GT(*hi, 0.05) << kind << ": the phantom is empty";
      }
    }
  }
  // Random families differ between samples and seeds; Shepp–Logan does not.
  const std::vector<PetscScalar> a = serial_phantom(make_phantom("ellipses", 5, 0), n);
  EXPECT_FALSE(bitwise_equal(a, serial_phantom(make_phantom("ellipses", 5, 1), n)));
  EXPECT_FALSE(bitwise_equal(a, serial_phantom(make_phantom("ellipses", 6, 0), n)));
  EXPECT_FALSE(
      bitwise_equal(serial_phantom(make_phantom("blocks", 5, 0), n), serial_phantom(make_phantom("blocks", 5, 1), n)));
  EXPECT_TRUE(
      bitwise_equal(serial_phantom(make_phantom("shepp", 5, 0), n), serial_phantom(make_phantom("shepp", 9, 3), n)));
}

TEST(Phantom, SheppLoganValuesAtKnownPoints) {
  const Phantom p = make_phantom("shepp", 1, 0);
  EXPECT_NEAR(p.value(0.0, 0.0), 0.2, 1e-15);      // ellipses 1 and 2: 1 − 0.8
  EXPECT_NEAR(p.value(0.0, 0.9), 1.0, 1e-15);      // the skull: inside 1, outside 2
  EXPECT_NEAR(p.value(0.0, 0.34375), 0.3, 1e-15);  // ellipse 5 adds 0.1
  EXPECT_NEAR(p.value(0.22, 0.0), 0.0, 1e-15);     // ellipse 3 (−0.2): 1 − 0.8 − 0.2
  EXPECT_EQ(p.value(0.95, 0.95), 0.0);             // outside the head
  EXPECT_EQ(p.value(0.0, 0.95), 0.0);

  // On an odd grid the centre pixel is (0, 0), the top-left corner (−1, 1).
  const PetscInt n = 65;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  OwnedVec x = grid.create_vec();
  fill_phantom(grid, p, x);
  const std::vector<PetscScalar> v = grid.gather_natural(x);
  if (world_rank() == 0) {
    EXPECT_NEAR(v[static_cast<size_t>(32 * n + 32)], 0.2, 1e-15);
    EXPECT_NEAR(v[static_cast<size_t>(21 * n + 32)], 0.3, 1e-15);  // y = (64 − 42)/64 = 0.34375
    EXPECT_EQ(v[0], 0.0);
    EXPECT_EQ(v[static_cast<size_t>(n * n - 1)], 0.0);
  }
  double x0, y0;
  pixel_centre(n, 0, 0, &x0, &y0);
  EXPECT_EQ(x0, -1.0);
  EXPECT_EQ(y0, 1.0);
}

TEST(Phantom, UnknownFamilyIsAnInputError) {
  try {
    make_phantom("banana", 1, 0);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("-data_phantom"), std::string::npos) << e.what();
  }
}

TEST(Noise, CounterGaussianHasUnitMomentsAndReproducibleSumIsOrderFree) {
  const std::uint64_t n = 200000;
  double mean = 0, second = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    const double g = counter_gaussian(7, 3, i);
    mean += g;
    second += g * g;
  }
  mean /= n;
  second /= n;
  EXPECT_LT(std::fabs(mean), 5.0 / std::sqrt(double(n)));
  EXPECT_LT(std::fabs(second - 1.0), 5.0 * std::sqrt(2.0 / double(n)));
  EXPECT_NE(counter_gaussian(7, 3, 0), counter_gaussian(7, 4, 0));
  EXPECT_NE(counter_gaussian(7, 3, 0), counter_gaussian(8, 3, 0));

  std::vector<PetscScalar> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = counter_gaussian(1, 1, i) * std::pow(10.0, double(i % 7) - 3);
  const double forward = reproducible_sum(v.data(), PetscInt(v.size()));
  long double exact = 0;
  for (double t : v) exact += t;
  std::vector<PetscScalar> w(v.rbegin(), v.rend());
  std::rotate(w.begin(), w.begin() + 333, w.end());
  const double permuted = reproducible_sum(w.data(), PetscInt(w.size()));
  EXPECT_EQ(std::memcmp(&forward, &permuted, sizeof(double)), 0);
  EXPECT_NEAR(forward, double(exact), 1e-12 * std::fabs(double(exact)) + 1e-12);
}

TEST(Noise, ReproducibleNormMatchesVecNorm) {
  ImageGrid grid(PETSC_COMM_WORLD, 50);
  OwnedVec x = grid.create_vec();
  fill_phantom(grid, make_phantom("ellipses", 3, 2), x);
  PetscReal norm = 0;
  BILEARN_CHECK(VecNorm(x, NORM_2, &norm));
  EXPECT_NEAR(reproducible_norm(x), norm, 1e-13 * norm);
  BILEARN_CHECK(VecSet(x, 0.0));
  EXPECT_EQ(reproducible_norm(x), 0.0);
}

TEST(Noise, RelativeLevelWithinFivePercent) {
  ImageGrid grid(PETSC_COMM_WORLD, 64);  // m = 4096: ‖e‖/(σ‖y‖) has std ≈ 1/√(2m) ≈ 1.1 %
  ForwardModel model = create_identity_model(grid);
  DataOptions options;
  options.samples = 3;
  options.noise = 0.05;
  options.seed = 11;
  const TrainingSet set = generate_training_set(grid, model, options);
  EXPECT_EQ(set.size(), 3);
  for (PetscInt s = 0; s < set.size(); ++s) {
    const PetscReal level = measured_noise_level(model, set.truth[s], set.data[s]);
    EXPECT_NEAR(level, 0.05, 0.05 * 0.05) << "sample " << s;
  }
  // Zero noise: the data is exactly A x†.
  options.noise = 0.0;
  const TrainingSet clean = generate_training_set(grid, model, options);
  PetscBool equal = PETSC_FALSE;
  BILEARN_CHECK(VecEqual(clean.truth[0], clean.data[0], &equal));
  EXPECT_TRUE(equal);
}

TEST(Noise, ReproducibleForwardMatchesMatMult) {
  ImageGrid grid(PETSC_COMM_WORLD, 29);
  ForwardModel model = mixing_model(grid, 3 * 29 + 1);
  OwnedVec x = grid.create_vec(), y, z;
  fill_phantom(grid, make_phantom("blocks", 2, 0), x);
  BILEARN_CHECK(MatCreateVecs(model.A, nullptr, y.out()));
  BILEARN_CHECK(VecDuplicate(y, z.out()));
  apply_forward_reproducible(model, x, y);
  BILEARN_CHECK(MatMult(model.A, x, z));
  PetscReal ref = 0, diff = 0;
  BILEARN_CHECK(VecNorm(z, NORM_INFINITY, &ref));
  BILEARN_CHECK(VecAXPY(z, -1.0, y));
  BILEARN_CHECK(VecNorm(z, NORM_INFINITY, &diff));
  EXPECT_GT(ref, 1.0);
  EXPECT_LT(diff, 1e-14 * ref);
}

// Every bit of a generated set (truth and data) is the same on 1, 2 or 3 ranks: compare the
// natural-order gather of a parallel run with a run on PETSC_COMM_SELF on rank 0.
TEST(Dataset, GeneratedSetIdenticalToSerialRun) {
  const PetscInt n = 31;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  ForwardModel on_grid = create_identity_model(grid);
  ForwardModel rows = mixing_model(grid, 2 * n + 5);
  DataOptions options;
  options.samples = 2;
  options.noise = 0.02;
  options.seed = 4;
  for (const std::string& kind : phantom_kinds()) {
    options.phantom = kind;
    const TrainingSet a = generate_training_set(grid, on_grid, options);
    const TrainingSet b = generate_training_set(grid, rows, options);
    std::vector<std::vector<PetscScalar>> parallel;
    for (PetscInt s = 0; s < options.samples; ++s) {
      parallel.push_back(grid.gather_natural(a.truth[s]));
      parallel.push_back(gather_data_natural(on_grid, grid, a.data[s]));
      parallel.push_back(gather_data_natural(rows, grid, b.data[s]));
    }
    if (world_rank() == 0) {
      ImageGrid self(PETSC_COMM_SELF, n);
      ForwardModel self_on_grid = create_identity_model(self);
      ForwardModel self_rows = mixing_model(self, 2 * n + 5);
      const TrainingSet sa = generate_training_set(self, self_on_grid, options);
      const TrainingSet sb = generate_training_set(self, self_rows, options);
      for (PetscInt s = 0; s < options.samples; ++s) {
        EXPECT_TRUE(bitwise_equal(parallel[3 * s], self.gather_natural(sa.truth[s]))) << kind << " truth " << s;
        EXPECT_TRUE(bitwise_equal(parallel[3 * s + 1], gather_data_natural(self_on_grid, self, sa.data[s])))
            << kind << " data on grid " << s;
        EXPECT_TRUE(bitwise_equal(parallel[3 * s + 2], gather_data_natural(self_rows, self, sb.data[s])))
            << kind << " data in rows " << s;
      }
    }
  }
}

TEST(Dataset, OptionsAreValidated) {
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-data_noise", "-0.5"));
  try {
    read_data_options(PETSC_COMM_WORLD);
    ADD_FAILURE() << "negative noise accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "-data_noise must be >= 0, got -0.5");
  }
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-data_noise"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-data_samples", "0"));
  try {
    read_data_options(PETSC_COMM_WORLD);
    ADD_FAILURE() << "zero samples accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "-data_samples must be >= 1, got 0");
  }
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-data_samples"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-data_phantom", "shepp"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-data_seed", "9"));
  const DataOptions o = read_data_options(PETSC_COMM_WORLD);
  EXPECT_EQ(o.phantom, "shepp");
  EXPECT_EQ(o.seed, 9);
  EXPECT_EQ(o.samples, 4);
  EXPECT_FALSE(o.samples_given);
  EXPECT_DOUBLE_EQ(o.noise, 0.01);
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-data_phantom"));
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-data_seed"));
}
