// TaoLineSearch blockarmijo (include/bilearn/lower/tao_block_armijo.h, docs/algorithms.md §4.7) on
// a separable quadratic f(X) = Σ_s ½ k_s ‖x_s − c_s‖² over B = 3 stacked blocks: block 0 is given
// its Newton direction and takes step 1; block 1 is given 4 times its Newton direction and
// backtracks to a step that meets its own Armijo condition (step 1 is not touched by block 1's
// overshoot); block 2 is given an ascent direction and takes its steepest-descent direction. The
// returned f and g are those of the returned point, on 1, 2 and 3 ranks. Without blocks the line
// search is an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/lower/tao_block_armijo.h"
#include "test_support.hpp"

using namespace bilearn;

namespace {

constexpr PetscInt kBlocks = 3, kLocal = 7;  // entries of one block on each rank
const PetscReal kCurvature[kBlocks] = {2.0, 5.0, 0.5};

double centre(PetscInt s, PetscInt i) {
  return std::sin(1.0 + 0.7 * static_cast<double>(i) + 2.0 * static_cast<double>(s));
}

struct Quadratic {
  std::vector<PetscReal> values;  // f_s at the last evaluation
  PetscInt evaluations = 0;
};

PetscErrorCode objective_and_gradient(TaoLineSearch ls, Vec x, PetscReal* f, Vec g, void* ctx) {
  return guarded(PetscObjectComm((PetscObject)ls), __func__, [&] {
    auto* q = static_cast<Quadratic*>(ctx);
    ConstVecArray xa(x);
    VecArray ga(g);
    const int rank = bilearn_test::world_rank();
    std::vector<PetscReal> local(kBlocks, 0.0);
    for (PetscInt s = 0; s < kBlocks; ++s)
      for (PetscInt i = 0; i < kLocal; ++i) {
        const PetscInt k = s * kLocal + i;
        const double r = xa[k] - centre(s, rank * kLocal + i);
        local[static_cast<size_t>(s)] += 0.5 * kCurvature[s] * r * r;
        ga[k] = kCurvature[s] * r;
      }
    q->values.assign(kBlocks, 0.0);
    BILEARN_CHECK(MPI_Allreduce(local.data(), q->values.data(), kBlocks, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
    *f = q->values[0] + q->values[1] + q->values[2];
    ++q->evaluations;
  });
}

PetscErrorCode block_values(void* ctx, PetscReal f[]) {
  const auto* q = static_cast<const Quadratic*>(ctx);
  for (PetscInt s = 0; s < kBlocks; ++s) f[s] = q->values[static_cast<size_t>(s)];
  return 0;
}

OwnedVec stacked_vec() {
  OwnedVec v;
  BILEARN_CHECK(VecCreateMPI(PETSC_COMM_WORLD, kBlocks * kLocal, PETSC_DETERMINE, v.out()));
  return v;
}

OwnedTaoLineSearch block_line_search(Quadratic& q, bool with_blocks) {
  BILEARN_CHECK(TaoLineSearchRegister(TAOLINESEARCHBLOCKARMIJO, TaoLineSearchCreate_BlockArmijo));
  OwnedTaoLineSearch ls;
  BILEARN_CHECK(TaoLineSearchCreate(PETSC_COMM_WORLD, ls.out()));
  BILEARN_CHECK(TaoLineSearchSetType(ls, TAOLINESEARCHBLOCKARMIJO));
  BILEARN_CHECK(TaoLineSearchSetObjectiveAndGradientRoutine(ls, objective_and_gradient, &q));
  if (with_blocks) BILEARN_CHECK(TaoLineSearchBlockArmijoSetBlocks(ls, kBlocks, block_values, &q));
  return ls;
}

}  // namespace

TEST(BlockArmijo, EachBlockTakesItsOwnStep) {
  Quadratic q;
  OwnedTaoLineSearch ls = block_line_search(q, true);
  OwnedVec x = stacked_vec(), g = stacked_vec(), d = stacked_vec(), x0 = stacked_vec();
  BILEARN_CHECK(VecSet(x, 0.0));
  PetscReal f = 0;
  BILEARN_CHECK(TaoLineSearchComputeObjectiveAndGradient(ls, x, &f, g));
  const std::vector<PetscReal> f0 = q.values;
  std::vector<PetscReal> g0(kBlocks * kLocal);
  {
    ConstVecArray ga(g);
    VecArray da(d);
    for (PetscInt k = 0; k < kBlocks * kLocal; ++k) g0[static_cast<size_t>(k)] = ga[k];
    for (PetscInt i = 0; i < kLocal; ++i) {
      da[i] = -ga[i] / kCurvature[0];                    // Newton: step 1 is exact
      da[kLocal + i] = -4.0 * ga[kLocal + i] / kCurvature[1];  // 4× too long
      da[2 * kLocal + i] = ga[2 * kLocal + i];           // ascent
    }
  }
  BILEARN_CHECK(VecCopy(x, x0));
  PetscReal step = 0;
  TaoLineSearchConvergedReason reason;
  BILEARN_CHECK(TaoLineSearchApply(ls, x, &f, g, d, &step, &reason));
  EXPECT_EQ(reason, TAOLINESEARCH_SUCCESS);
  // Block 0 at the centre; block 1 where its own Armijo condition holds with α < 1; block 2
  // moved along −∇f_2 with a decrease.
  const int rank = bilearn_test::world_rank();
  ConstVecArray xa(x);
  double worst0 = 0;
  for (PetscInt i = 0; i < kLocal; ++i) worst0 = std::max(worst0, std::abs(xa[i] - centre(0, rank * kLocal + i)));
  EXPECT_LT(worst0, 1e-14);
  // x_1 = α_1 d_1 with d_1 = −4 g_1/k_1 = 4 c_1: α_1 = x_1/(4 c_1), the same for every entry.
  const double alpha1 = xa[kLocal] / (4.0 * centre(1, rank * kLocal));
  EXPECT_GT(alpha1, 0.0);
  EXPECT_LT(alpha1, 1.0);
  for (PetscInt i = 1; i < kLocal; ++i) EXPECT_NEAR(xa[kLocal + i] / (4.0 * centre(1, rank * kLocal + i)), alpha1, 1e-12);
  double gts1 = 0, local_gts1 = 0;
  for (PetscInt i = 0; i < kLocal; ++i) local_gts1 += g0[static_cast<size_t>(kLocal + i)] * (-4.0 * g0[static_cast<size_t>(kLocal + i)] / kCurvature[1]);
  MPI_Allreduce(&local_gts1, &gts1, 1, MPI_DOUBLE, MPI_SUM, PETSC_COMM_WORLD);
  EXPECT_LE(q.values[1], f0[1] + 1e-4 * alpha1 * gts1);
  EXPECT_LT(q.values[2], f0[2]);
  for (PetscInt i = 0; i < kLocal; ++i) {
    const double moved = xa[2 * kLocal + i];  // −α_2 g_2 = α_2 k_2 c_2: the sign of c_2
    EXPECT_GE(moved * centre(2, rank * kLocal + i), 0.0);
  }
  // f and g returned are those of x.
  PetscReal f_check = 0;
  OwnedVec g_check = stacked_vec();
  BILEARN_CHECK(TaoLineSearchComputeObjectiveAndGradient(ls, x, &f_check, g_check));
  EXPECT_NEAR(f, f_check, 1e-14 * std::abs(f_check));
  BILEARN_CHECK(VecAXPY(g_check, -1.0, g));
  PetscReal g_diff = 1;
  BILEARN_CHECK(VecNorm(g_check, NORM_INFINITY, &g_diff));
  EXPECT_LT(g_diff, 1e-14);
  EXPECT_GT(step, 0.0);  // the smallest step of the blocks that moved
  EXPECT_LE(step, alpha1 * (1 + 1e-12));
}

TEST(BlockArmijo, WithoutBlocksIsAnError) {
  Quadratic q;
  OwnedTaoLineSearch ls = block_line_search(q, false);
  OwnedVec x = stacked_vec(), g = stacked_vec(), d = stacked_vec();
  BILEARN_CHECK(VecSet(x, 0.0));
  PetscReal f = 0, step = 0;
  BILEARN_CHECK(TaoLineSearchComputeObjectiveAndGradient(ls, x, &f, g));
  BILEARN_CHECK(VecCopy(g, d));
  BILEARN_CHECK(VecScale(d, -1.0));
  TaoLineSearchConvergedReason reason;
  std::string what;
  try {
    BILEARN_CHECK(TaoLineSearchApply(ls, x, &f, g, d, &step, &reason));
  } catch (const PetscFailure& e) {
    what = e.what();
  }
  EXPECT_TRUE(bilearn_test::contains(what, "no blocks given")) << what;
}
