// TaoLineSearch type "blockarmijo" (include/bilearn/lower/tao_block_armijo.h; docs/algorithms.md
// §4.7): one Armijo backtracking per block of a separable objective, all blocks evaluated together.
#include "bilearn/lower/tao_block_armijo.h"

#include <petsc/private/taolinesearchimpl.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "bilearn/core/block_dots.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"

namespace bilearn {
namespace {

struct BlockArmijo {
  PetscInt blocks = 0;
  TaoLineSearchBlockValuesFn values = nullptr;
  void* ctx = nullptr;
  PetscReal c = 1e-4;        // sufficient-decrease constant
  PetscInt max_trials = 30;  // evaluations per line search
  OwnedVec start;            // x at entry
  std::vector<PetscReal> f0, f, gts, alpha, sums;
  std::vector<char> done;  // block accepted (or not moving)
};

BlockArmijo& data(TaoLineSearch ls) {
  return *static_cast<BlockArmijo*>(ls->data);
}

MPI_Comm comm_of(TaoLineSearch ls) {
  return PetscObjectComm((PetscObject)ls);
}

// x_s = start_s + α_s d_s for every block.
void place_trial(Vec x, Vec start, Vec d, const std::vector<PetscReal>& alpha, PetscInt B) {
  PetscInt n;
  BILEARN_CHECK(VecGetLocalSize(x, &n));
  const PetscInt local = n / B;
  VecArray xa(x);
  ConstVecArray sa(start), da(d);
  for (PetscInt s = 0; s < B; ++s) {
    const PetscReal a = alpha[static_cast<size_t>(s)];
    for (PetscInt i = s * local; i < (s + 1) * local; ++i) xa[i] = sa[i] + a * da[i];
  }
}

// Safeguarded minimiser of the quadratic through f0, slope gts at 0 and f at α.
PetscReal backtrack(PetscReal alpha, PetscReal f0, PetscReal gts, PetscReal f) {
  if (!std::isfinite(f)) return 0.1 * alpha;
  const PetscReal curvature = f - f0 - gts * alpha;
  const PetscReal q = curvature > 0 ? -gts * alpha * alpha / (2 * curvature) : 0.5 * alpha;
  return std::clamp(q, 0.1 * alpha, 0.5 * alpha);
}

void apply(TaoLineSearch ls, Vec x, PetscReal* f, Vec g, Vec d) {
  BlockArmijo& b = data(ls);
  require(b.values && b.blocks > 0, "TaoLineSearch blockarmijo: no blocks given (TaoLineSearchBlockArmijoSetBlocks)");
  const PetscInt B = b.blocks;
  const size_t nb = static_cast<size_t>(B);
  const MPI_Comm comm = comm_of(ls);
  PetscInt n;
  BILEARN_CHECK(VecGetLocalSize(x, &n));
  int divisible = n % B == 0 ? 1 : 0;
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, &divisible, 1, MPI_INT, MPI_MIN, comm));
  require(divisible == 1, "TaoLineSearch blockarmijo: the local vector size is not a multiple of the number of blocks");
  ls->reason = TAOLINESEARCH_CONTINUE_ITERATING;
  BILEARN_CHECK(TaoLineSearchMonitor(ls, 0, *f, 0.0));
  if (!std::isfinite(*f)) {
    ls->reason = TAOLINESEARCH_FAILED_BADPARAMETER;
    return;
  }
  if (!b.start) BILEARN_CHECK(VecDuplicate(x, b.start.out()));
  BILEARN_CHECK(VecCopy(x, b.start));
  // f_s at x: the last evaluation was at x unless the caller evaluated elsewhere since; the sum
  // tells (otherwise x is evaluated once more).
  b.f0.assign(nb, 0.0);
  BILEARN_CHECK(b.values(b.ctx, b.f0.data()));
  PetscReal sum = 0;
  for (PetscReal v : b.f0) sum += v;
  if (!(std::abs(sum - *f) <= 1e-12 * std::max<PetscReal>(1, std::abs(*f)))) {
    PetscReal fx;
    BILEARN_CHECK(TaoLineSearchComputeObjectiveAndGradient(ls, x, &fx, g));
    BILEARN_CHECK(b.values(b.ctx, b.f0.data()));
  }
  // Slopes; a block that is not a descent direction takes −∇f_s.
  block_dots(comm, B, {{g, d}, {g, g}, {d, d}}, b.sums);
  b.gts.assign(b.sums.begin(), b.sums.begin() + B);
  b.done.assign(nb, 0);
  {
    VecArray da(d);
    ConstVecArray ga(g);
    const PetscInt local = n / B;
    for (size_t s = 0; s < nb; ++s) {
      const PetscReal gg = b.sums[nb + s], dd = b.sums[2 * nb + s];
      if (!std::isfinite(b.gts[s])) {
        ls->reason = TAOLINESEARCH_FAILED_INFORNAN;
        return;
      }
      if (gg == 0 || dd == 0) {  // at a stationary point or not moving: the block stays
        b.done[s] = 1;
        continue;
      }
      if (b.gts[s] >= 0) {
        for (PetscInt i = static_cast<PetscInt>(s) * local; i < static_cast<PetscInt>(s + 1) * local; ++i)
          da[i] = -ga[i];
        b.gts[s] = -gg;
      }
    }
  }
  b.alpha.assign(nb, ls->initstep > 0 ? ls->initstep : 1.0);
  for (size_t s = 0; s < nb; ++s)
    if (b.done[s]) b.alpha[s] = 0;
  b.f.assign(nb, 0.0);
  bool evaluated_here = false;
  for (PetscInt trial = 1; trial <= b.max_trials; ++trial) {
    if (std::all_of(b.done.begin(), b.done.end(), [](char c) { return c != 0; })) break;
    place_trial(x, b.start, d, b.alpha, B);
    BILEARN_CHECK(TaoLineSearchComputeObjectiveAndGradient(ls, x, f, g));
    evaluated_here = true;
    BILEARN_CHECK(b.values(b.ctx, b.f.data()));
    PetscReal smallest = PETSC_MAX_REAL;
    for (size_t s = 0; s < nb; ++s)
      if (!b.done[s]) smallest = std::min(smallest, b.alpha[s]);
    BILEARN_CHECK(TaoLineSearchMonitor(ls, trial, *f, smallest));
    for (size_t s = 0; s < nb; ++s) {
      if (b.done[s]) continue;
      // Near the minimiser the decrease c·α·∇f_sᵀd_s falls below the rounding of f_s: a change
      // within a few ulps of f_s counts as sufficient, or the step would shrink to nothing.
      const PetscReal rounding = 8 * PETSC_MACHINE_EPSILON * std::abs(b.f0[s]);
      if (std::isfinite(b.f[s]) && b.f[s] <= b.f0[s] + b.c * b.alpha[s] * b.gts[s] + rounding) {
        b.done[s] = 1;
        continue;
      }
      b.alpha[s] = backtrack(b.alpha[s], b.f0[s], b.gts[s], b.f[s]);
      if (b.alpha[s] < ls->stepmin) {  // this block cannot decrease along d_s: it stays
        b.alpha[s] = 0;
        b.done[s] = 1;
      }
    }
  }
  const bool all_done = std::all_of(b.done.begin(), b.done.end(), [](char c) { return c != 0; });
  // The point to return: accepted blocks at their α_s, blocks still backtracking at 0.
  bool moved = false, reset = false;
  PetscReal step = PETSC_MAX_REAL;
  for (size_t s = 0; s < nb; ++s) {
    if (!all_done && !b.done[s]) {
      b.alpha[s] = 0;
      reset = true;
    }
    if (b.alpha[s] > 0) {
      moved = true;
      step = std::min(step, b.alpha[s]);
    }
  }
  if (!evaluated_here || reset) {
    place_trial(x, b.start, d, b.alpha, B);
    BILEARN_CHECK(TaoLineSearchComputeObjectiveAndGradient(ls, x, f, g));
  }
  ls->step = moved ? step : 0.0;
  if (!std::isfinite(*f)) {
    ls->reason = TAOLINESEARCH_FAILED_INFORNAN;
  } else if (!moved) {
    ls->reason = TAOLINESEARCH_HALTED_RTOL;
  } else {
    ls->reason = TAOLINESEARCH_SUCCESS;
  }
}

PetscErrorCode apply_callback(TaoLineSearch ls, Vec x, PetscReal* f, Vec g, Vec d) {
  return guarded(comm_of(ls), __func__, [&] { apply(ls, x, f, g, d); });
}

PetscErrorCode set_from_options(TaoLineSearch ls, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBegin;
  BlockArmijo& b = data(ls);
  PetscOptionsHeadBegin(PetscOptionsObject, "Block Armijo line search options");
  PetscCall(PetscOptionsReal("-tao_ls_block_armijo_c", "sufficient-decrease constant", "", b.c, &b.c, nullptr));
  PetscCall(PetscOptionsInt("-tao_ls_block_armijo_max_trials", "evaluations per line search", "", b.max_trials,
                            &b.max_trials, nullptr));
  PetscOptionsHeadEnd();
  if (!(b.c > 0 && b.c < 0.5))
    SETERRQ(comm_of(ls), PETSC_ERR_ARG_OUTOFRANGE, "-tao_ls_block_armijo_c must lie in (0, 0.5), got %g", (double)b.c);
  if (b.max_trials < 1)
    SETERRQ(comm_of(ls), PETSC_ERR_ARG_OUTOFRANGE, "-tao_ls_block_armijo_max_trials must be at least 1, got %d",
            (int)b.max_trials);
  PetscFunctionReturn(0);
}

PetscErrorCode view(TaoLineSearch ls, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  block Armijo: %d blocks, c = %g, at most %d evaluations\n",
                                     (int)data(ls).blocks, (double)data(ls).c, (int)data(ls).max_trials));
  PetscFunctionReturn(0);
}

PetscErrorCode destroy(TaoLineSearch ls) {
  return guarded(comm_of(ls), __func__, [&] {
    delete static_cast<BlockArmijo*>(ls->data);
    ls->data = nullptr;
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)ls, "TaoLineSearchBlockArmijoSetBlocks_C", nullptr));
  });
}

PetscErrorCode set_blocks_impl(TaoLineSearch ls, PetscInt blocks, TaoLineSearchBlockValuesFn values, void* ctx) {
  return guarded(comm_of(ls), __func__, [&] {
    require(blocks >= 1 && values, "TaoLineSearchBlockArmijoSetBlocks: at least one block and a values callback");
    BlockArmijo& b = data(ls);
    b.blocks = blocks;
    b.values = values;
    b.ctx = ctx;
  });
}

}  // namespace
}  // namespace bilearn

using namespace bilearn;

PetscErrorCode TaoLineSearchCreate_BlockArmijo(TaoLineSearch ls) {
  return guarded(PetscObjectComm((PetscObject)ls), __func__, [&] {
    ls->data = new BlockArmijo();
    ls->initstep = 1.0;
    ls->ops->setup = nullptr;
    ls->ops->monitor = nullptr;
    ls->ops->reset = nullptr;
    ls->ops->apply = apply_callback;
    ls->ops->view = view;
    ls->ops->destroy = destroy;
    ls->ops->setfromoptions = set_from_options;
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)ls, "TaoLineSearchBlockArmijoSetBlocks_C", set_blocks_impl));
  });
}

PetscErrorCode TaoLineSearchBlockArmijoSetBlocks(TaoLineSearch ls, PetscInt blocks, TaoLineSearchBlockValuesFn values,
                                                 void* ctx) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ls, TAOLINESEARCH_CLASSID, 1);
  PetscTryMethod(ls, "TaoLineSearchBlockArmijoSetBlocks_C",
                 (TaoLineSearch, PetscInt, TaoLineSearchBlockValuesFn, void*), (ls, blocks, values, ctx));
  PetscFunctionReturn(0);
}
