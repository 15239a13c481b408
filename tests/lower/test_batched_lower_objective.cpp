// BatchedLowerObjective (include/bilearn/lower/batched_lower_objective.hpp, docs/algorithms.md
// §4.7) against the samples' own LowerObjectives, built separately (own regulariser instances):
// on tomography (N = 16, foe with a convex and a non-convex expert) with B = 4 samples of different data, the value is
// the sum, the gradient, the Hessian products (H, its split into data and regulariser parts), the Hessian diagonal are
// the per-sample ones block by block at a random stacked point, mixed_mult_sum is the sum of the per-sample mixed
// products, gather/scatter are inverse, data_gradient_norm is the smallest sample's; with the stored Aᵀ and without it;
// on any rank count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/image_grid.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "bilearn/lower/batched_lower_objective.hpp"
#include "bilearn/lower/lower_objective.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/forward_model.hpp"
#include "bilearn/reg/regulariser.hpp"
#include "test_support.hpp"

using namespace bilearn;

namespace {

constexpr PetscInt kSide = 16;
constexpr PetscInt kSamples = 4;
constexpr PetscReal kEpsilon = 1e-3;

using bilearn_test::ScopedOptions;

// Entries that depend on the global (natural) index and the seed only: the same on any rank count.
double pseudo_random(PetscInt i, int seed) {
  return std::sin(12.9898 * static_cast<double>(i) + 78.233 * seed) * 0.5;
}

void fill(const ImageGrid& grid, Vec v, int seed, double offset) {
  std::vector<PetscScalar> natural(static_cast<size_t>(grid.pixels()));
  for (PetscInt i = 0; i < grid.pixels(); ++i) natural[static_cast<size_t>(i)] = offset + pseudo_random(i, seed);
  grid.set_from_natural(natural, v);
}

// One objective per sample with its own regulariser; `objectives` borrowed by the batch.
struct Samples {
  std::vector<std::unique_ptr<Regulariser>> regs;
  std::vector<std::unique_ptr<LowerObjective>> objectives;
  std::vector<LowerObjective*> pointers() const {
    std::vector<LowerObjective*> p;
    for (const auto& o : objectives) p.push_back(o.get());
    return p;
  }
};

Samples make_samples(const ImageGrid& grid, const ForwardModel& model, const std::vector<OwnedVec>& data) {
  Samples s;
  for (PetscInt k = 0; k < kSamples; ++k) {
    s.regs.push_back(create_regulariser(grid));
    s.objectives.push_back(std::make_unique<LowerObjective>(grid, model, *s.regs.back(), kEpsilon));
    s.objectives.back()->set_data(data[static_cast<size_t>(k)]);
  }
  return s;
}

// max_s ‖block_s(stacked) − parts[s]‖ / max_s ‖parts[s]‖ (collective).
double block_difference(const BatchedLowerObjective& batch, const ImageGrid& grid, Vec stacked,
                        const std::vector<OwnedVec>& parts) {
  std::vector<OwnedVec> blocks;
  std::vector<Vec> views;
  for (size_t s = 0; s < parts.size(); ++s) {
    blocks.push_back(grid.create_vec());
    views.push_back(blocks.back());
  }
  batch.scatter(stacked, views);
  double worst = 0, largest = 0;
  for (size_t s = 0; s < parts.size(); ++s) {
    PetscReal d = 0, n = 0;
    BILEARN_CHECK(VecAXPY(blocks[s], -1.0, parts[s]));
    BILEARN_CHECK(VecNorm(blocks[s], NORM_2, &d));
    BILEARN_CHECK(VecNorm(parts[s], NORM_2, &n));
    worst = std::max(worst, static_cast<double>(d));
    largest = std::max(largest, static_cast<double>(n));
  }
  EXPECT_GT(largest, 0.0);
  return worst / largest;
}

std::vector<OwnedVec> grid_vecs(const ImageGrid& grid, PetscInt count) {
  std::vector<OwnedVec> v;
  for (PetscInt s = 0; s < count; ++s) v.push_back(grid.create_vec());
  return v;
}

std::vector<Vec> borrowed(const std::vector<OwnedVec>& v) {
  std::vector<Vec> out;
  for (const auto& x : v) out.push_back(x);
  return out;
}

// The comparison for one choice of -problem_store_transpose.
void expect_batch_matches_samples(const char* store_transpose, const char* expert) {
  ScopedOptions options({{"-problem", "tomo"},
                         {"-tomo_angles", "20"},
                         {"-problem_store_transpose", store_transpose},
                         {"-reg_type", "foe"},
                         {"-reg_foe_filters", "dct3"},
                         {"-reg_foe_expert", expert}});
  const std::string tag = std::string("store_transpose ") + store_transpose + ", expert " + expert;
  MPI_Comm comm = PETSC_COMM_WORLD;
  const ImageGrid grid(comm, kSide);
  const ForwardModel model = create_forward_model(grid, read_problem_options(comm));
  EXPECT_EQ(operator_storage(model.A, comm).transpose_stored, std::string(store_transpose) == "true") << tag;

  // Data of kSamples different images, with different "noise".
  std::vector<OwnedVec> data;
  for (PetscInt s = 0; s < kSamples; ++s) {
    OwnedVec truth = grid.create_vec(), y;
    fill(grid, truth, 10 + static_cast<int>(s), 0.5);
    BILEARN_CHECK(MatCreateVecs(model.A, nullptr, y.out()));
    BILEARN_CHECK(MatMult(model.A, truth, y));
    PetscInt lo, hi;
    BILEARN_CHECK(VecGetOwnershipRange(y, &lo, &hi));
    {
      VecArray a(y);
      for (PetscInt i = lo; i < hi; ++i) a[i - lo] += 0.1 * std::sin(1.3 * i + 2.0 * s);
    }
    data.push_back(std::move(y));
  }
  Samples batch_samples = make_samples(grid, model, data);
  Samples reference = make_samples(grid, model, data);
  BatchedLowerObjective batch(batch_samples.pointers());
  batch.set_data(borrowed(data));
  ASSERT_EQ(batch.blocks(), kSamples);

  // A point away from the initial θ, and a random stacked x (each block its own image).
  std::vector<PetscReal> theta = reference.regs.front()->initial_theta();
  for (size_t i = 0; i < theta.size(); ++i) theta[i] += 0.3 * std::sin(1.0 + static_cast<double>(i));
  std::vector<OwnedVec> x = grid_vecs(grid, kSamples);
  for (PetscInt s = 0; s < kSamples; ++s) fill(grid, x[static_cast<size_t>(s)], 20 + static_cast<int>(s), 0.4);
  OwnedVec X = batch.create_vec();
  batch.gather(borrowed(x), X);

  // gather then scatter gives the parts back exactly; the stacked layout is the blocks in order.
  {
    std::vector<OwnedVec> back = grid_vecs(grid, kSamples);
    batch.scatter(X, borrowed(back));
    for (PetscInt s = 0; s < kSamples; ++s) {
      PetscBool equal = PETSC_FALSE;
      BILEARN_CHECK(VecEqual(back[static_cast<size_t>(s)], x[static_cast<size_t>(s)], &equal));
      EXPECT_TRUE(equal) << tag << " block " << s;
    }
    PetscInt local = 0, global = 0;
    BILEARN_CHECK(VecGetLocalSize(X, &local));
    BILEARN_CHECK(VecGetSize(X, &global));
    EXPECT_EQ(local, kSamples * grid.local_size()) << tag;
    EXPECT_EQ(global, kSamples * grid.pixels()) << tag;
    ConstVecArray stacked(X);
    ConstVecArray second(x[1]);
    EXPECT_EQ(stacked[grid.local_size()], second[0]) << tag;
  }

  // Value and gradient.
  {
    OwnedVec G = batch.create_vec();
    const PetscReal value = batch.value_and_gradient(X, theta, G);
    PetscReal sum = 0;
    std::vector<OwnedVec> g = grid_vecs(grid, kSamples);
    for (PetscInt s = 0; s < kSamples; ++s)
      sum += reference.objectives[static_cast<size_t>(s)]->value_and_gradient(x[static_cast<size_t>(s)], theta,
                                                                              g[static_cast<size_t>(s)]);
    EXPECT_NEAR(value, sum, 1e-12 * std::abs(sum)) << tag;
    EXPECT_LT(block_difference(batch, grid, G, g), 1e-12) << tag << " gradient";
  }

  // Scale of the stopping test: the smallest ‖Aᵀy_s‖.
  {
    PetscReal smallest = PETSC_MAX_REAL;
    for (auto& o : reference.objectives) smallest = std::min(smallest, o->data_gradient_norm());
    EXPECT_NEAR(batch.data_gradient_norm(), smallest, 1e-12 * smallest) << tag;
  }

  // Products at the point (X, θ): the reference objectives at their own x_s.
  batch.set_point(X, theta);
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->set_point(x[static_cast<size_t>(s)], theta);
  // The batch places its per-block views on X only during set_point: the blocks' regularisers must
  // keep their own point for the products below.
  OwnedVec V = batch.create_vec();
  std::vector<OwnedVec> v = grid_vecs(grid, kSamples);
  for (PetscInt s = 0; s < kSamples; ++s) fill(grid, v[static_cast<size_t>(s)], 30 + static_cast<int>(s), 0.0);
  batch.gather(borrowed(v), V);
  OwnedVec Y = batch.create_vec();
  std::vector<OwnedVec> y = grid_vecs(grid, kSamples);

  BILEARN_CHECK(MatMult(batch.hessian(), V, Y));
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->hessian_mult(v[static_cast<size_t>(s)], y[static_cast<size_t>(s)]);
  EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " H v";

  batch.data_hessian_mult(V, Y);
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->data_hessian_mult(v[static_cast<size_t>(s)],
                                                                    y[static_cast<size_t>(s)]);
  EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " (AᵀA + εI) v";

  batch.reg_hessian_mult(V, Y);
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->reg_hessian_mult(v[static_cast<size_t>(s)],
                                                                   y[static_cast<size_t>(s)]);
  EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " ∇²R v";

  BILEARN_CHECK(MatGetDiagonal(batch.hessian(), Y));
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->hessian_diagonal(y[static_cast<size_t>(s)]);
  EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " diag H";

  std::vector<PetscReal> jw, sum(theta.size(), 0.0), one;
  batch.mixed_mult_sum(V, jw);
  for (PetscInt s = 0; s < kSamples; ++s) {
    reference.objectives[static_cast<size_t>(s)]->mixed_mult(v[static_cast<size_t>(s)], one);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += one[i];
  }
  ASSERT_EQ(jw.size(), sum.size()) << tag;
  double worst = 0, largest = 0;
  for (size_t i = 0; i < sum.size(); ++i) {
    worst = std::max(worst, std::abs(jw[i] - sum[i]));
    largest = std::max(largest, std::abs(sum[i]));
  }
  EXPECT_GT(largest, 0.0) << tag;
  EXPECT_LT(worst, 1e-12 * largest) << tag << " Σ J_s w_s";

  // A Hessian product reads A and Aᵀ once per sample: 2B applications, counted per sample.
  const PetscInt before = batch.operator_applications(), products = batch.hessian_products();
  BILEARN_CHECK(MatMult(batch.hessian(), V, Y));
  EXPECT_EQ(batch.operator_applications() - before, 2 * kSamples) << tag;
  EXPECT_EQ(batch.hessian_products() - products, kSamples) << tag;

  // KSP lockstepcg's notice (ksp_lockstep_cg.h): with some blocks inactive, the active ones get
  // their own product (one block product of as many columns as there are active blocks, or
  // more where PETSc's MAIJ kernels need it: 3 of 4 on the folded operator run as 4), the
  // inactive ones zero, and only the active ones are paid for; NULL gives every block back.
  {
    KSPLockstepCGSetActiveBlocksFn notify = nullptr;
    BILEARN_CHECK(PetscObjectQueryFunction((PetscObject)batch.hessian(), KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, &notify));
    ASSERT_TRUE(notify != nullptr) << tag;
    for (const std::vector<PetscBool>& mask :
         {std::vector<PetscBool>{PETSC_FALSE, PETSC_TRUE, PETSC_FALSE, PETSC_TRUE},
          std::vector<PetscBool>{PETSC_TRUE, PETSC_FALSE, PETSC_TRUE, PETSC_TRUE}}) {
      ASSERT_EQ(static_cast<PetscInt>(mask.size()), kSamples);
      BILEARN_CHECK(notify((PetscObject)batch.hessian(), kSamples, mask.data()));
      BILEARN_CHECK(VecSet(Y, 5.0));
      const PetscInt ops = batch.operator_applications(), paid = batch.hessian_products();
      BILEARN_CHECK(MatMult(batch.hessian(), V, Y));
      const PetscInt active = static_cast<PetscInt>(std::count(mask.begin(), mask.end(), PETSC_TRUE));
      EXPECT_EQ(batch.operator_applications() - ops, 2 * active) << tag;
      EXPECT_EQ(batch.hessian_products() - paid, active) << tag;
      for (PetscInt s = 0; s < kSamples; ++s) {
        if (mask[static_cast<size_t>(s)])
          reference.objectives[static_cast<size_t>(s)]->hessian_mult(v[static_cast<size_t>(s)],
                                                                     y[static_cast<size_t>(s)]);
        else
          BILEARN_CHECK(VecZeroEntries(y[static_cast<size_t>(s)]));
      }
      EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " H v on the active blocks";
    }
    BILEARN_CHECK(notify((PetscObject)batch.hessian(), kSamples, nullptr));
    BILEARN_CHECK(MatMult(batch.hessian(), V, Y));
    for (PetscInt s = 0; s < kSamples; ++s)
      reference.objectives[static_cast<size_t>(s)]->hessian_mult(v[static_cast<size_t>(s)], y[static_cast<size_t>(s)]);
    EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " H v, all blocks again";
  }

  // A new point moves every block's products (state of the shell increases, products follow x_s).
  const double shift = 0.25;
  BILEARN_CHECK(VecShift(X, shift));
  for (auto& xs : x) BILEARN_CHECK(VecShift(xs, shift));
  batch.set_point(X, theta);
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->set_point(x[static_cast<size_t>(s)], theta);
  BILEARN_CHECK(MatMult(batch.hessian(), V, Y));
  for (PetscInt s = 0; s < kSamples; ++s)
    reference.objectives[static_cast<size_t>(s)]->hessian_mult(v[static_cast<size_t>(s)], y[static_cast<size_t>(s)]);
  EXPECT_LT(block_difference(batch, grid, Y, y), 1e-12) << tag << " H v after a new point";
}

}  // namespace

TEST(BatchedLowerObjective, MatchesTheSamplesWithStoredTranspose) {
  for (const char* expert : {"l1", "lorentzian"}) expect_batch_matches_samples("true", expert);
}

TEST(BatchedLowerObjective, MatchesTheSamplesWithoutStoredTranspose) {
  for (const char* expert : {"l1", "lorentzian"}) expect_batch_matches_samples("false", expert);
}

TEST(BatchedLowerObjective, SamplesOfDifferentModelsAreAnInputError) {
  ScopedOptions options({{"-problem", "tomo"}, {"-tomo_angles", "12"}, {"-reg_type", "foe"}});
  MPI_Comm comm = PETSC_COMM_WORLD;
  const ImageGrid grid(comm, 8);
  const ForwardModel one = create_forward_model(grid, read_problem_options(comm));
  const ForwardModel other = create_forward_model(grid, read_problem_options(comm));
  auto r1 = create_regulariser(grid), r2 = create_regulariser(grid);
  LowerObjective a(grid, one, *r1, kEpsilon), b(grid, other, *r2, kEpsilon);
  EXPECT_THROW(BatchedLowerObjective({&a, &b}), InputError);
  EXPECT_THROW(BatchedLowerObjective(std::vector<LowerObjective*>{}), InputError);
}
