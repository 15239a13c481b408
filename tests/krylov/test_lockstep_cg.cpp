// KSP lockstepcg (include/bilearn/krylov/ksp_lockstep_cg.h, docs/algorithms.md §4.7) against
// PETSc's KSPCG: on a block-diagonal SPD system of B = 3 blocks with different spectra, each
// block's solution and iteration count are those of KSPCG with the same PC (jacobi) on that block
// alone, for both norm types and for zero and nonzero initial guesses; an indefinite block is
// reported as KSP_DIVERGED_INDEFINITE_MAT; B = 1 is KSPCG; bad block counts and local sizes that
// the blocks do not divide are clear errors on every rank; an operator and a PC that skip frozen
// blocks (KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS) change no iterate and compute each block only while it
// iterates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "problems.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace krylov_test;

namespace {

constexpr PetscInt kBlockSize = 61;  // global size of one block (odd: uneven rank splits)

// Block s: a_s·tridiag(−1, 2, −1) + c_s·I + d_s·diag(hash01(j, 40 + s)), j the index in the block.
struct BlockSpectrum {
  double a, c, d;
};
const std::vector<BlockSpectrum> kSpd = {{1.0, 0.01, 0.5}, {3.0, 1.0, 20.0}, {0.5, 0.002, 0.05}};

double diagonal_entry(const BlockSpectrum& b, PetscInt j, PetscInt s) {
  return 2.0 * b.a + b.c + b.d * hash01(j, 40 + static_cast<std::uint64_t>(s));
}

// The layout of one block on comm (PETSC_DECIDE): every rank's first index and size.
struct BlockLayout {
  std::vector<PetscInt> start, size;
  int rank = 0;
  PetscInt owner_of(PetscInt j) const {
    for (size_t r = 0; r < start.size(); ++r)
      if (j >= start[r] && j < start[r] + size[r]) return static_cast<PetscInt>(r);
    return -1;
  }
};

BlockLayout block_layout(MPI_Comm comm, PetscInt n) {
  BlockLayout l;
  int size = 1;
  MPI_Comm_size(comm, &size);
  MPI_Comm_rank(comm, &l.rank);
  PetscInt local = PETSC_DECIDE, global = n;
  BILEARN_CHECK(PetscSplitOwnership(comm, &local, &global));
  l.size.assign(static_cast<size_t>(size), 0);
  BILEARN_CHECK(MPI_Allgather(&local, 1, MPIU_INT, l.size.data(), 1, MPIU_INT, comm));
  l.start.assign(static_cast<size_t>(size), 0);
  for (size_t r = 1; r < l.size.size(); ++r) l.start[r] = l.start[r - 1] + l.size[r - 1];
  return l;
}

// Stacked global index of entry j of block s: rank r holds its part of block 0, then of block 1, ….
PetscInt stacked_index(const BlockLayout& l, PetscInt blocks, PetscInt s, PetscInt j) {
  const size_t r = static_cast<size_t>(l.owner_of(j));
  return blocks * l.start[r] + s * l.size[r] + (j - l.start[r]);
}

// The block-diagonal matrix of the given blocks on the stacked layout.
OwnedMat stacked_matrix(MPI_Comm comm, const BlockLayout& l, const std::vector<BlockSpectrum>& spectra) {
  const PetscInt B = static_cast<PetscInt>(spectra.size());
  const PetscInt local = l.size[static_cast<size_t>(l.rank)], first = l.start[static_cast<size_t>(l.rank)];
  OwnedMat a;
  BILEARN_CHECK(
      MatCreateAIJ(comm, B * local, B * local, PETSC_DETERMINE, PETSC_DETERMINE, 3, nullptr, 2, nullptr, a.out()));
  for (PetscInt s = 0; s < B; ++s) {
    const BlockSpectrum& b = spectra[static_cast<size_t>(s)];
    for (PetscInt j = first; j < first + local; ++j) {
      const PetscInt row = stacked_index(l, B, s, j);
      PetscInt cols[3];
      PetscScalar vals[3];
      PetscInt k = 0;
      if (j > 0) cols[k] = stacked_index(l, B, s, j - 1), vals[k++] = -b.a;
      cols[k] = row, vals[k++] = diagonal_entry(b, j, s);
      if (j < kBlockSize - 1) cols[k] = stacked_index(l, B, s, j + 1), vals[k++] = -b.a;
      BILEARN_CHECK(MatSetValues(a, 1, &row, k, cols, vals, INSERT_VALUES));
    }
  }
  BILEARN_CHECK(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatSetOption(a, MAT_SYMMETRIC, PETSC_TRUE));
  return a;
}

// Block s alone, in the block layout.
OwnedMat block_matrix(MPI_Comm comm, const BlockLayout& l, const BlockSpectrum& b, PetscInt s) {
  const PetscInt local = l.size[static_cast<size_t>(l.rank)], first = l.start[static_cast<size_t>(l.rank)];
  OwnedMat a;
  BILEARN_CHECK(MatCreateAIJ(comm, local, local, kBlockSize, kBlockSize, 3, nullptr, 2, nullptr, a.out()));
  for (PetscInt j = first; j < first + local; ++j) {
    PetscInt cols[3];
    PetscScalar vals[3];
    PetscInt k = 0;
    if (j > 0) cols[k] = j - 1, vals[k++] = -b.a;
    cols[k] = j, vals[k++] = diagonal_entry(b, j, s);
    if (j < kBlockSize - 1) cols[k] = j + 1, vals[k++] = -b.a;
    BILEARN_CHECK(MatSetValues(a, 1, &j, k, cols, vals, INSERT_VALUES));
  }
  BILEARN_CHECK(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatSetOption(a, MAT_SYMMETRIC, PETSC_TRUE));
  return a;
}

// Entry j of block s: hash01(j, seed + s) − 0.5 (scale 0 gives zero blocks).
double block_value(PetscInt j, PetscInt s, std::uint64_t seed) {
  return hash01(j, seed + static_cast<std::uint64_t>(s)) - 0.5;
}

// Block s of the stacked vector v (this rank's entries) as a block-layout vector, or the reverse.
void copy_block(const BlockLayout& l, Vec stacked, PetscInt s, Vec block) {
  const PetscInt local = l.size[static_cast<size_t>(l.rank)];
  ConstVecArray in(stacked);
  VecArray out(block);
  std::copy(in.data() + s * local, in.data() + (s + 1) * local, out.data());
}

void fill_block(const BlockLayout& l, Vec v, PetscInt s, PetscInt offset_blocks, std::uint64_t seed, double scale) {
  const PetscInt local = l.size[static_cast<size_t>(l.rank)], first = l.start[static_cast<size_t>(l.rank)];
  VecArray a(v);
  for (PetscInt i = 0; i < local; ++i) a[offset_blocks * local + i] = scale * block_value(first + i, s, seed);
}

OwnedKSP jacobi_ksp(MPI_Comm comm, const char* type, const std::string& prefix, double rtol, KSPNormType norm) {
  OwnedKSP ksp = make_ksp(comm, type, prefix, rtol, {{"-pc_type", "jacobi"}});
  BILEARN_CHECK(KSPSetNormType(ksp, norm));
  return ksp;
}

// One lockstep solve of the stacked system against KSPCG on each block alone. rhs_scale[s] = 0
// makes block s of b zero.
void expect_blocks_match_cg(const std::vector<BlockSpectrum>& spectra, KSPNormType norm, bool nonzero_guess,
                            const std::vector<double>& rhs_scale, const std::string& tag) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  const PetscInt B = static_cast<PetscInt>(spectra.size());
  const BlockLayout l = block_layout(comm, kBlockSize);
  OwnedMat a = stacked_matrix(comm, l, spectra);
  OwnedVec b, x;
  BILEARN_CHECK(MatCreateVecs(a, x.out(), b.out()));
  for (PetscInt s = 0; s < B; ++s) {
    fill_block(l, b, s, s, 11, rhs_scale[static_cast<size_t>(s)]);
    fill_block(l, x, s, s, 21, nonzero_guess ? 1.0 : 0.0);
  }
  OwnedKSP lockstep = jacobi_ksp(comm, KSPLOCKSTEPCG, "ls_" + tag + "_", 1e-8, norm);
  BILEARN_CHECK(KSPLockstepCGSetBlocks(lockstep, B));
  const SolveResult r = solve(lockstep, a, b, x, nonzero_guess);
  EXPECT_GT(r.reason, 0) << tag;
  PetscInt slowest = 0;
  std::vector<PetscInt> block_its;
  for (PetscInt s = 0; s < B; ++s) {
    OwnedMat as = block_matrix(comm, l, spectra[static_cast<size_t>(s)], s);
    OwnedVec bs, xs, mine;
    BILEARN_CHECK(MatCreateVecs(as, xs.out(), bs.out()));
    BILEARN_CHECK(VecDuplicate(xs, mine.out()));
    fill_block(l, bs, s, 0, 11, rhs_scale[static_cast<size_t>(s)]);
    fill_block(l, xs, s, 0, 21, nonzero_guess ? 1.0 : 0.0);
    OwnedKSP cg = jacobi_ksp(comm, KSPCG, "cg_" + tag + "_" + std::to_string(s) + "_", 1e-8, norm);
    const SolveResult ref = solve(cg, as, bs, xs, nonzero_guess);
    EXPECT_GT(ref.reason, 0) << tag << " block " << s;
    PetscInt its = -1;
    BILEARN_CHECK(KSPLockstepCGGetBlockIterations(lockstep, s, &its));
    EXPECT_EQ(its, ref.its) << tag << " block " << s;
    copy_block(l, x, s, mine);
    PetscReal ref_norm = 0;
    BILEARN_CHECK(VecNorm(xs, NORM_2, &ref_norm));
    if (ref_norm > 0) {
      EXPECT_LT(relative_difference(mine, xs), 1e-12) << tag << " block " << s;
    } else {
      PetscReal mine_norm = 1;
      BILEARN_CHECK(VecNorm(mine, NORM_2, &mine_norm));
      EXPECT_EQ(mine_norm, 0.0) << tag << " block " << s;
    }
    slowest = std::max(slowest, ref.its);
    block_its.push_back(ref.its);
  }
  EXPECT_EQ(r.its, slowest) << tag;
  // The blocks' spectra differ enough that they stop at different iterations: frozen blocks are exercised.
  if (std::all_of(rhs_scale.begin(), rhs_scale.end(), [](double v) { return v != 0; })) {
    EXPECT_GT(slowest, *std::min_element(block_its.begin(), block_its.end())) << tag;
  }
}

std::string norm_name(KSPNormType norm) {
  return norm == KSP_NORM_PRECONDITIONED ? "prec" : "unprec";
}

// The message of the PetscFailure that body throws ("" when it does not throw).
template <class Body>
std::string failure_message(Body&& body) {
  try {
    body();
  } catch (const PetscFailure& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(LockstepCG, EachBlockFollowsKspCgOnThatBlock) {
  for (KSPNormType norm : {KSP_NORM_UNPRECONDITIONED, KSP_NORM_PRECONDITIONED})
    for (bool guess : {false, true})
      expect_blocks_match_cg(kSpd, norm, guess, {1.0, 1.0, 1.0}, norm_name(norm) + (guess ? "_guess" : "_zero"));
}

// A block whose right-hand side is zero: with a zero guess it has converged at iteration 0; with a
// nonzero guess KSPConvergedDefault measures it against its initial residual (PETSc's special case
// of a zero right-hand side), and so must lockstepcg.
TEST(LockstepCG, ZeroRightHandSideBlockFollowsKspCg) {
  for (KSPNormType norm : {KSP_NORM_UNPRECONDITIONED, KSP_NORM_PRECONDITIONED})
    for (bool guess : {false, true})
      expect_blocks_match_cg(kSpd, norm, guess, {1.0, 0.0, 1.0},
                             "zerorhs_" + norm_name(norm) + (guess ? "_guess" : "_zero"));
}

TEST(LockstepCG, OneBlockIsKspCg) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 20, 0.0, 3.0, 81);
  OwnedVec b = random_vec(a, 82);
  for (KSPNormType norm : {KSP_NORM_UNPRECONDITIONED, KSP_NORM_PRECONDITIONED})
    for (bool guess : {false, true}) {
      const std::string tag = norm_name(norm) + (guess ? "g" : "z");
      OwnedKSP cg = jacobi_ksp(comm, KSPCG, "one_cg_" + tag + "_", 1e-9, norm);
      OwnedKSP ls = jacobi_ksp(comm, KSPLOCKSTEPCG, "one_ls_" + tag + "_", 1e-9, norm);
      BILEARN_CHECK(KSPLockstepCGSetBlocks(ls, 1));
      OwnedVec x1 = random_vec(a, 83), x2 = random_vec(a, 83);
      const SolveResult r1 = solve(cg, a, b, x1, guess);
      const SolveResult r2 = solve(ls, a, b, x2, guess);
      EXPECT_GT(r1.reason, 0) << tag;
      EXPECT_EQ(r1.reason, r2.reason) << tag;
      EXPECT_EQ(r1.its, r2.its) << tag;
      PetscInt its = -1;
      BILEARN_CHECK(KSPLockstepCGGetBlockIterations(ls, 0, &its));
      EXPECT_EQ(its, r1.its) << tag;
      ASSERT_EQ(r1.history.size(), r2.history.size()) << tag;
      double worst = 0;
      for (size_t i = 0; i < r1.history.size(); ++i)
        worst = std::max(worst, std::abs(r1.history[i] - r2.history[i]) / r1.history[0]);
      EXPECT_LT(worst, 1e-12) << tag;
      EXPECT_LT(relative_difference(x2, x1), 1e-12) << tag;
    }
}

// Block 1 shifted below its smallest eigenvalue: the solve stops with KSP_DIVERGED_INDEFINITE_MAT,
// as KSPCG does on that block, and the KSP solves an SPD system afterwards.
TEST(LockstepCG, IndefiniteBlockIsReported) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  std::vector<BlockSpectrum> spectra = kSpd;
  spectra[1] = {1.0, -1.0, 0.1};  // eigenvalues from about −1 to 3
  const BlockLayout l = block_layout(comm, kBlockSize);
  OwnedMat a = stacked_matrix(comm, l, spectra);
  OwnedVec b, x;
  BILEARN_CHECK(MatCreateVecs(a, x.out(), b.out()));
  for (PetscInt s = 0; s < 3; ++s) fill_block(l, b, s, s, 11, 1.0);
  OwnedKSP ls = jacobi_ksp(comm, KSPLOCKSTEPCG, "ind_ls_", 1e-10, KSP_NORM_UNPRECONDITIONED);
  BILEARN_CHECK(KSPLockstepCGSetBlocks(ls, 3));
  const SolveResult r = solve(ls, a, b, x, false);
  EXPECT_EQ(r.reason, KSP_DIVERGED_INDEFINITE_MAT);
  PetscReal nx = 0;
  BILEARN_CHECK(VecNorm(x, NORM_2, &nx));
  EXPECT_TRUE(std::isfinite(nx));
  {
    OwnedMat a1 = block_matrix(comm, l, spectra[1], 1);
    OwnedVec b1, x1;
    BILEARN_CHECK(MatCreateVecs(a1, x1.out(), b1.out()));
    fill_block(l, b1, 1, 0, 11, 1.0);
    OwnedKSP cg = jacobi_ksp(comm, KSPCG, "ind_cg_", 1e-10, KSP_NORM_UNPRECONDITIONED);
    EXPECT_EQ(solve(cg, a1, b1, x1, false).reason, KSP_DIVERGED_INDEFINITE_MAT);
  }
  OwnedMat spd = stacked_matrix(comm, l, kSpd);
  const SolveResult again = solve(ls, spd, b, x, false);
  EXPECT_GT(again.reason, 0);
  EXPECT_LT(relative_residual(spd, b, x), 1e-9);
}

TEST(LockstepCG, ZeroBlocksIsAnError) {
  OwnedKSP ls = make_ksp(PETSC_COMM_WORLD, KSPLOCKSTEPCG, "zero_blocks_", 1e-8);
  const std::string what = failure_message([&] { BILEARN_CHECK(KSPLockstepCGSetBlocks(ls, 0)); });
  EXPECT_TRUE(bilearn_test::contains(what, "number of blocks must be at least 1")) << what;
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-zero_opt_ksp_lockstep_cg_blocks", "0"));
  const std::string from_option =
      failure_message([&] { make_ksp(PETSC_COMM_WORLD, KSPLOCKSTEPCG, "zero_opt_", 1e-8); });
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-zero_opt_ksp_lockstep_cg_blocks"));
  EXPECT_TRUE(bilearn_test::contains(from_option, "number of blocks must be at least 1")) << from_option;
}

// Local sizes that B does not divide: on every rank (10 entries, B = 3), and on rank 0 only
// (rank 0 holds 5 entries, the others 4, B = 2); either is one clear error on every rank.
TEST(LockstepCG, LocalSizeNotAMultipleOfTheBlocksIsAnError) {
  const int size = [] {
    int s = 1;
    MPI_Comm_size(PETSC_COMM_WORLD, &s);
    return s;
  }();
  struct Case {
    PetscInt local, blocks;
  };
  std::vector<Case> cases = {{10, 3}};
  if (size > 1) cases.push_back({bilearn_test::world_rank() == 0 ? 5 : 4, 2});
  for (const Case& c : cases) {
    OwnedMat a;
    BILEARN_CHECK(MatCreateAIJ(PETSC_COMM_WORLD, c.local, c.local, PETSC_DETERMINE, PETSC_DETERMINE, 1, nullptr, 0,
                               nullptr, a.out()));
    OwnedVec b, x;
    BILEARN_CHECK(MatCreateVecs(a, x.out(), b.out()));
    BILEARN_CHECK(VecSet(b, 1.0));
    BILEARN_CHECK(MatDiagonalSet(a, b, INSERT_VALUES));
    BILEARN_CHECK(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
    BILEARN_CHECK(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
    OwnedKSP ls = make_ksp(PETSC_COMM_WORLD, KSPLOCKSTEPCG, "odd_" + std::to_string(c.blocks) + "_", 1e-8);
    BILEARN_CHECK(KSPLockstepCGSetBlocks(ls, c.blocks));
    const std::string what = failure_message([&] { solve(ls, a, b, x, false); });
    EXPECT_TRUE(bilearn_test::contains(what, "not a multiple of the number of blocks")) << what;
  }
}

namespace {

// The stacked matrix as a MatShell that follows lockstepcg's active-block notices: an inactive
// block's output is zero and not computed; products are counted per block.
struct SkippingOperator {
  Mat stacked = nullptr;
  PetscInt blocks = 0, local = 0;
  std::vector<char> active;
  std::vector<PetscInt> products;
  PetscInt notices = 0;
};

PetscErrorCode skipping_mult(Mat shell, Vec x, Vec y) {
  return guarded(PetscObjectComm((PetscObject)shell), __func__, [&] {
    SkippingOperator* op = nullptr;
    BILEARN_CHECK(MatShellGetContext(shell, &op));
    BILEARN_CHECK(MatMult(op->stacked, x, y));
    VecArray out(y);
    for (PetscInt s = 0; s < op->blocks; ++s) {
      if (op->active[static_cast<size_t>(s)]) {
        ++op->products[static_cast<size_t>(s)];
      } else {
        std::fill(out.data() + s * op->local, out.data() + (s + 1) * op->local, 0.0);
      }
    }
  });
}

PetscErrorCode skipping_set_active(PetscObject obj, PetscInt blocks, const PetscBool active[]) {
  return guarded(PetscObjectComm(obj), __func__, [&] {
    SkippingOperator* op = nullptr;
    BILEARN_CHECK(MatShellGetContext((Mat)obj, &op));
    require(blocks == op->blocks, "wrong block count");
    for (PetscInt s = 0; s < blocks; ++s) op->active[static_cast<size_t>(s)] = !active || active[s];
    ++op->notices;
  });
}

// Jacobi per block as a PCSHELL that follows the notices: an inactive block's output is a finite
// value no iterate may depend on (7), and its applies are not counted.
struct SkippingJacobi {
  OwnedVec inverse_diagonal;
  PetscInt blocks = 0, local = 0;
  std::vector<char> active;
  std::vector<PetscInt> applies;
};

PetscErrorCode skipping_jacobi_apply(PC pc, Vec x, Vec y) {
  return guarded(PetscObjectComm((PetscObject)pc), __func__, [&] {
    SkippingJacobi* j = nullptr;
    BILEARN_CHECK(PCShellGetContext(pc, &j));
    BILEARN_CHECK(VecPointwiseMult(y, j->inverse_diagonal, x));
    VecArray out(y);
    for (PetscInt s = 0; s < j->blocks; ++s) {
      if (j->active[static_cast<size_t>(s)]) {
        ++j->applies[static_cast<size_t>(s)];
      } else {
        std::fill(out.data() + s * j->local, out.data() + (s + 1) * j->local, 7.0);
      }
    }
  });
}

PetscErrorCode skipping_jacobi_set_active(PetscObject obj, PetscInt blocks, const PetscBool active[]) {
  return guarded(PetscObjectComm(obj), __func__, [&] {
    SkippingJacobi* j = nullptr;
    BILEARN_CHECK(PCShellGetContext((PC)obj, &j));
    for (PetscInt s = 0; s < blocks; ++s) j->active[static_cast<size_t>(s)] = !active || active[s];
  });
}

}  // namespace

TEST(LockstepCG, SkippingFrozenBlocksChangesNoIterate) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  const PetscInt B = static_cast<PetscInt>(kSpd.size());
  const BlockLayout l = block_layout(comm, kBlockSize);
  OwnedMat a = stacked_matrix(comm, l, kSpd);
  OwnedVec b, x_plain, x_skip;
  BILEARN_CHECK(MatCreateVecs(a, x_plain.out(), b.out()));
  BILEARN_CHECK(VecDuplicate(x_plain, x_skip.out()));
  for (PetscInt s = 0; s < B; ++s) fill_block(l, b, s, s, 11, 1.0);
  for (KSPNormType norm : {KSP_NORM_UNPRECONDITIONED, KSP_NORM_PRECONDITIONED}) {
    const std::string tag = norm_name(norm);
    OwnedKSP plain = jacobi_ksp(comm, KSPLOCKSTEPCG, "skip_plain_" + tag + "_", 1e-10, norm);
    BILEARN_CHECK(KSPLockstepCGSetBlocks(plain, B));
    const SolveResult r_plain = solve(plain, a, b, x_plain, false);
    ASSERT_GT(r_plain.reason, 0) << tag;

    PetscInt n;
    BILEARN_CHECK(VecGetLocalSize(b, &n));
    SkippingOperator op{a, B, n / B, std::vector<char>(static_cast<size_t>(B), 1),
                        std::vector<PetscInt>(static_cast<size_t>(B), 0), 0};
    OwnedMat shell;
    BILEARN_CHECK(MatCreateShell(comm, n, n, PETSC_DETERMINE, PETSC_DETERMINE, &op, shell.out()));
    BILEARN_CHECK(MatShellSetOperation(shell, MATOP_MULT, (void (*)(void))skipping_mult));
    BILEARN_CHECK(
        PetscObjectComposeFunction((PetscObject)shell.get(), KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, skipping_set_active));
    SkippingJacobi jac;
    BILEARN_CHECK(VecDuplicate(b, jac.inverse_diagonal.out()));
    BILEARN_CHECK(MatGetDiagonal(a, jac.inverse_diagonal));
    BILEARN_CHECK(VecReciprocal(jac.inverse_diagonal));
    jac.blocks = B;
    jac.local = n / B;
    jac.active.assign(static_cast<size_t>(B), 1);
    jac.applies.assign(static_cast<size_t>(B), 0);
    OwnedKSP skip = make_ksp(comm, KSPLOCKSTEPCG, "skip_" + tag + "_", 1e-10);
    BILEARN_CHECK(KSPSetNormType(skip, norm));
    BILEARN_CHECK(KSPLockstepCGSetBlocks(skip, B));
    PC pc;
    BILEARN_CHECK(KSPGetPC(skip, &pc));
    BILEARN_CHECK(PCSetType(pc, PCSHELL));
    BILEARN_CHECK(PCShellSetContext(pc, &jac));
    BILEARN_CHECK(PCShellSetApply(pc, skipping_jacobi_apply));
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, skipping_jacobi_set_active));
    const SolveResult r_skip = solve(skip, shell, b, x_skip, false);
    ASSERT_EQ(r_skip.reason, r_plain.reason) << tag;
    EXPECT_EQ(r_skip.its, r_plain.its) << tag;
    ASSERT_EQ(r_skip.history.size(), r_plain.history.size()) << tag;
    for (size_t i = 0; i < r_plain.history.size(); ++i) EXPECT_EQ(r_skip.history[i], r_plain.history[i]) << tag << " it " << i;
    EXPECT_EQ(relative_difference(x_skip, x_plain), 0.0) << tag;
    PetscInt total = 0;
    for (PetscInt s = 0; s < B; ++s) {
      PetscInt its = -1;
      BILEARN_CHECK(KSPLockstepCGGetBlockIterations(skip, s, &its));
      // Block s takes part in the products of iterations 1 … its and in the PC applies of
      // iterations 0 … its, no more.
      EXPECT_EQ(op.products[static_cast<size_t>(s)], its) << tag << " block " << s;
      EXPECT_EQ(jac.applies[static_cast<size_t>(s)], its + 1) << tag << " block " << s;
      total += its;
    }
    EXPECT_LT(total, B * r_skip.its) << tag;  // some block was frozen before the last iteration
    // After the solve the operator and the PC compute every block again.
    EXPECT_GE(op.notices, 2) << tag;
    EXPECT_TRUE(std::all_of(op.active.begin(), op.active.end(), [](char c) { return c != 0; })) << tag;
    EXPECT_TRUE(std::all_of(jac.active.begin(), jac.active.end(), [](char c) { return c != 0; })) << tag;
  }
}

// Per-block tolerances: block s stops where KSPCG with rtol[s] stops on that block alone; a block
// with rtol 1 does not iterate (its solution stays the zero guess); NULL gives the KSP's rtol back.
TEST(LockstepCG, PerBlockTolerancesFollowKspCgWithThatTolerance) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  const PetscInt B = static_cast<PetscInt>(kSpd.size());
  const BlockLayout l = block_layout(comm, kBlockSize);
  OwnedMat a = stacked_matrix(comm, l, kSpd);
  OwnedVec b, x;
  BILEARN_CHECK(MatCreateVecs(a, x.out(), b.out()));
  for (PetscInt s = 0; s < B; ++s) fill_block(l, b, s, s, 11, 1.0);
  const std::vector<PetscReal> rtol = {1e-3, 1.0, 1e-9};
  OwnedKSP ls = jacobi_ksp(comm, KSPLOCKSTEPCG, "tol_ls_", 1e-6, KSP_NORM_UNPRECONDITIONED);
  BILEARN_CHECK(KSPLockstepCGSetBlocks(ls, B));
  BILEARN_CHECK(KSPLockstepCGSetBlockTolerances(ls, rtol.data()));
  const SolveResult r = solve(ls, a, b, x, false);
  ASSERT_GT(r.reason, 0);
  for (PetscInt s = 0; s < B; ++s) {
    OwnedMat as = block_matrix(comm, l, kSpd[static_cast<size_t>(s)], s);
    OwnedVec bs, xs, mine;
    BILEARN_CHECK(MatCreateVecs(as, xs.out(), bs.out()));
    BILEARN_CHECK(VecDuplicate(xs, mine.out()));
    fill_block(l, bs, s, 0, 11, 1.0);
    PetscInt its = -1;
    BILEARN_CHECK(KSPLockstepCGGetBlockIterations(ls, s, &its));
    if (rtol[static_cast<size_t>(s)] < 1) {  // KSPCG takes no rtol of 1
      OwnedKSP cg = jacobi_ksp(comm, KSPCG, "tol_cg_" + std::to_string(s) + "_", rtol[static_cast<size_t>(s)],
                               KSP_NORM_UNPRECONDITIONED);
      EXPECT_EQ(its, solve(cg, as, bs, xs, false).its) << "block " << s;
    }
    copy_block(l, x, s, mine);
    PetscReal mine_norm = 0;
    BILEARN_CHECK(VecNorm(mine, NORM_2, &mine_norm));
    if (rtol[static_cast<size_t>(s)] >= 1) {
      EXPECT_EQ(its, 0) << "block " << s;
      EXPECT_EQ(mine_norm, 0.0) << "block " << s;
    } else {
      EXPECT_LT(relative_difference(mine, xs), 1e-12) << "block " << s;
    }
  }
  // Back to the KSP's rtol for every block: block 1 iterates again.
  BILEARN_CHECK(KSPLockstepCGSetBlockTolerances(ls, nullptr));
  solve(ls, a, b, x, false);
  PetscInt its1 = 0;
  BILEARN_CHECK(KSPLockstepCGGetBlockIterations(ls, 1, &its1));
  EXPECT_GT(its1, 0);
  const std::vector<PetscReal> bad = {1e-3, -1.0, 1e-3};
  const std::string what = failure_message([&] { BILEARN_CHECK(KSPLockstepCGSetBlockTolerances(ls, bad.data())); });
  EXPECT_TRUE(bilearn_test::contains(what, "negative or not finite")) << what;
}
