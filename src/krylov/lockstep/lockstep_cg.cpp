// KSP type "lockstepcg" (include/bilearn/krylov/ksp_lockstep_cg.h; docs/algorithms.md §4.7):
// one preconditioned CG per diagonal block of a stacked system, advanced in lockstep so that the
// blocks share each operator product, PC apply and reduction.
#include <petsc/private/kspimpl.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <utility>
#include <vector>

#include "bilearn/core/block_dots.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"

namespace bilearn::krylov {
namespace {

struct LockstepCG {
  PetscInt blocks = 1;
  std::vector<PetscInt> block_its;
  // Per block: reference norm, rᵀM⁻¹r, residual norm, step sizes; whether still iterating.
  std::vector<PetscReal> reference, rz, norm, alpha, beta, sums;
  std::vector<char> active;
  std::vector<PetscReal> block_rtol;  // per-block relative tolerances; empty: the KSP's rtol
};

LockstepCG& data(KSP ksp) {
  return *static_cast<LockstepCG*>(ksp->data);
}

// The B block inner products of each pair, one reduction (core/block_dots.hpp).
void block_dots(KSP ksp, std::initializer_list<std::pair<Vec, Vec>> pairs, std::vector<PetscReal>& out) {
  bilearn::block_dots(PetscObjectComm((PetscObject)ksp), data(ksp).blocks, pairs, out);
}

// y_s += a_s x_s for every block.
void block_axpy(Vec y, const std::vector<PetscReal>& a, Vec x, PetscInt B) {
  PetscInt n;
  BILEARN_CHECK(VecGetLocalSize(y, &n));
  const PetscInt local = n / B;
  VecArray ya(y);
  ConstVecArray xa(x);
  for (PetscInt s = 0; s < B; ++s) {
    const PetscReal as = a[static_cast<size_t>(s)];
    if (as == 0) continue;
    PetscScalar* ys = ya.data() + s * local;
    const PetscScalar* xs = xa.data() + s * local;
    for (PetscInt i = 0; i < local; ++i) ys[i] += as * xs[i];
  }
}

// p_s = z_s + b_s p_s for the active blocks, p_s = 0 for the others.
void block_update_direction(Vec p, const std::vector<PetscReal>& b, Vec z, const std::vector<char>& active,
                            PetscInt B) {
  PetscInt n;
  BILEARN_CHECK(VecGetLocalSize(p, &n));
  const PetscInt local = n / B;
  VecArray pa(p);
  ConstVecArray za(z);
  for (PetscInt s = 0; s < B; ++s) {
    PetscScalar* ps = pa.data() + s * local;
    const PetscScalar* zs = za.data() + s * local;
    if (!active[static_cast<size_t>(s)]) {
      std::fill(ps, ps + local, 0.0);
      continue;
    }
    const PetscReal bs = b[static_cast<size_t>(s)];
    for (PetscInt i = 0; i < local; ++i) ps[i] = zs[i] + bs * ps[i];
  }
}

// Tells the operator and the PC, when they compose KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, which blocks
// are still iterating, so that they can skip the frozen ones (ksp_lockstep_cg.h); whoever does not
// compose it keeps computing every block. The destructor gives them all blocks back, also when
// the solve ends with an error.
class ActiveBlocksNotice {
 public:
  ActiveBlocksNotice(Mat amat, PC pc) {
    for (PetscObject obj : {(PetscObject)amat, (PetscObject)pc}) {
      KSPLockstepCGSetActiveBlocksFn f = nullptr;
      BILEARN_CHECK(PetscObjectQueryFunction(obj, KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, &f));
      if (f) listeners_.push_back({obj, f});
    }
  }
  ~ActiveBlocksNotice() {
    if (!told_.empty())
      for (const Listener& l : listeners_) l.set(l.obj, static_cast<PetscInt>(told_.size()), nullptr);
  }
  ActiveBlocksNotice(const ActiveBlocksNotice&) = delete;
  ActiveBlocksNotice& operator=(const ActiveBlocksNotice&) = delete;

  // Before a product or PC apply: the blocks still active, told only when they changed.
  void update(const std::vector<char>& active) {
    if (listeners_.empty()) return;
    const bool all = std::all_of(active.begin(), active.end(), [](char a) { return a != 0; });
    if (all && told_.empty()) return;
    std::vector<PetscBool> mask(active.size());
    for (size_t s = 0; s < active.size(); ++s) mask[s] = active[s] ? PETSC_TRUE : PETSC_FALSE;
    if (mask == told_) return;
    for (const Listener& l : listeners_)
      BILEARN_CHECK(l.set(l.obj, static_cast<PetscInt>(mask.size()), all ? nullptr : mask.data()));
    told_ = all ? std::vector<PetscBool>() : std::move(mask);
  }

 private:
  struct Listener {
    PetscObject obj;
    KSPLockstepCGSetActiveBlocksFn set;
  };
  std::vector<Listener> listeners_;
  std::vector<PetscBool> told_;  // the mask last told; empty: all blocks
};

// Records the residual norms (sq: squared block norms), monitors, and retires converged blocks.
// Returns false when the solve must stop (ksp->reason set).
bool test_blocks(KSP ksp, PetscInt it, const std::vector<PetscReal>& sq) {
  LockstepCG& c = data(ksp);
  PetscReal total = 0;
  for (PetscInt s = 0; s < c.blocks; ++s) {
    c.norm[static_cast<size_t>(s)] = std::sqrt(std::max<PetscReal>(sq[static_cast<size_t>(s)], 0));
    total += sq[static_cast<size_t>(s)];
  }
  ksp->its = it;
  ksp->rnorm = std::sqrt(std::max<PetscReal>(total, 0));
  BILEARN_CHECK(KSPLogResidualHistory(ksp, ksp->rnorm));
  BILEARN_CHECK(KSPMonitor(ksp, it, ksp->rnorm));
  bool any_active = false;
  for (PetscInt s = 0; s < c.blocks; ++s) {
    const size_t k = static_cast<size_t>(s);
    if (!c.active[k]) continue;
    if (!std::isfinite(c.norm[k])) {
      ksp->reason = KSP_DIVERGED_NANORINF;
      return false;
    }
    c.block_its[k] = it;
    const PetscReal rtol = c.block_rtol.size() == static_cast<size_t>(c.blocks) ? c.block_rtol[k] : ksp->rtol;
    if (c.norm[k] <= std::max(rtol * c.reference[k], ksp->abstol)) {
      c.active[k] = 0;
      continue;
    }
    if (ksp->divtol != PETSC_DEFAULT && ksp->divtol > 0 && c.norm[k] > ksp->divtol * c.reference[k] &&
        c.reference[k] > 0) {
      ksp->reason = KSP_DIVERGED_DTOL;
      return false;
    }
    any_active = true;
  }
  if (!any_active) {
    ksp->reason = KSP_CONVERGED_RTOL;
    return false;
  }
  return true;
}

void solve(KSP ksp) {
  LockstepCG& c = data(ksp);
  const PetscInt B = c.blocks;
  Vec X = ksp->vec_sol, b = ksp->vec_rhs, R = ksp->work[0], Z = ksp->work[1], P = ksp->work[2], W = ksp->work[3];
  Mat Amat, Pmat;
  BILEARN_CHECK(PCGetOperators(ksp->pc, &Amat, &Pmat));
  PetscInt n;
  BILEARN_CHECK(VecGetLocalSize(X, &n));
  // Decided on every rank together: a rank whose local size alone is wrong must not leave the
  // others waiting in the first reduction.
  int divisible = n % B == 0 ? 1 : 0;
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, &divisible, 1, MPI_INT, MPI_MIN, PetscObjectComm((PetscObject)ksp)));
  require(divisible == 1, "KSP lockstepcg: the local vector size is not a multiple of the number of blocks");
  const bool preconditioned_norm = ksp->normtype == KSP_NORM_PRECONDITIONED;
  const size_t nb = static_cast<size_t>(B);
  c.block_its.assign(nb, 0);
  c.active.assign(nb, 1);
  c.alpha.assign(nb, 0.0);
  c.beta.assign(nb, 0.0);
  c.norm.assign(nb, 0.0);
  ksp->its = 0;
  ksp->reason = KSP_CONVERGED_ITERATING;
  if (ksp->guess_zero) {
    BILEARN_CHECK(VecSet(X, 0.0));
    BILEARN_CHECK(VecCopy(b, R));
  } else {
    BILEARN_CHECK(KSP_MatMult(ksp, Amat, X, R));  // r = b − H x
    BILEARN_CHECK(VecAYPX(R, -1.0, b));
  }
  BILEARN_CHECK(KSP_PCApply(ksp, R, Z));
  // Reference norms as KSPConvergedDefault takes them: ‖b_s‖, or ‖M⁻¹b_s‖ for the preconditioned norm.
  if (preconditioned_norm && !ksp->guess_zero) BILEARN_CHECK(KSP_PCApply(ksp, b, W));
  const Vec reference = preconditioned_norm ? (ksp->guess_zero ? Z : W) : b;
  block_dots(ksp, {{reference, reference}}, c.sums);
  c.reference.resize(nb);
  for (size_t s = 0; s < nb; ++s) c.reference[s] = std::sqrt(c.sums[s]);
  const Vec measured = preconditioned_norm ? Z : R;
  block_dots(ksp, {{R, Z}, {measured, measured}}, c.sums);
  c.rz.assign(c.sums.begin(), c.sums.begin() + B);
  // KSPConvergedDefault's special case: a zero b_s with a nonzero guess is measured against the
  // initial residual norm of that block instead.
  if (!ksp->guess_zero)
    for (size_t s = 0; s < nb; ++s)
      if (c.reference[s] == 0) c.reference[s] = std::sqrt(std::max<PetscReal>(c.sums[nb + s], 0));
  if (!test_blocks(ksp, 0, std::vector<PetscReal>(c.sums.begin() + B, c.sums.end()))) return;
  for (size_t s = 0; s < nb; ++s)
    if (c.active[s] && c.rz[s] < 0) {
      ksp->reason = KSP_DIVERGED_INDEFINITE_PC;
      return;
    }
  std::vector<PetscReal> zero(nb, 0.0);
  block_update_direction(P, zero, Z, c.active, B);  // p = z (active blocks)
  std::vector<PetscReal> squares(nb);
  ActiveBlocksNotice notice(Amat, ksp->pc);
  for (PetscInt it = 1; it <= ksp->max_it; ++it) {
    notice.update(c.active);
    BILEARN_CHECK(KSP_MatMult(ksp, Amat, P, W));  // one product for every active block
    block_dots(ksp, {{P, W}}, c.sums);
    for (size_t s = 0; s < nb; ++s) {
      c.alpha[s] = 0;
      if (!c.active[s]) continue;
      if (!(c.sums[s] > 0)) {
        ksp->its = it;
        ksp->reason = std::isfinite(c.sums[s]) ? KSP_DIVERGED_INDEFINITE_MAT : KSP_DIVERGED_NANORINF;
        return;
      }
      c.alpha[s] = c.rz[s] / c.sums[s];
    }
    block_axpy(X, c.alpha, P, B);  // x_s += α_s p_s
    for (PetscReal& a : c.alpha) a = -a;
    block_axpy(R, c.alpha, W, B);  // r_s −= α_s H_s p_s
    BILEARN_CHECK(KSP_PCApply(ksp, R, Z));
    block_dots(ksp, {{R, Z}, {measured, measured}}, c.sums);
    std::copy(c.sums.begin() + B, c.sums.end(), squares.begin());
    for (size_t s = 0; s < nb; ++s)
      if (!c.active[s]) squares[s] = c.norm[s] * c.norm[s];  // a frozen block keeps its last norm
    if (!test_blocks(ksp, it, squares)) return;
    for (size_t s = 0; s < nb; ++s) {
      if (!c.active[s]) continue;
      if (c.sums[s] < 0) {
        ksp->reason = KSP_DIVERGED_INDEFINITE_PC;
        return;
      }
      c.beta[s] = c.sums[s] / c.rz[s];
      c.rz[s] = c.sums[s];
    }
    block_update_direction(P, c.beta, Z, c.active, B);
  }
  ksp->reason = KSP_DIVERGED_ITS;
}

PetscErrorCode setup(KSP ksp) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] { BILEARN_CHECK(KSPSetWorkVecs(ksp, 4)); });
}

PetscErrorCode solve_callback(KSP ksp) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] { solve(ksp); });
}

PetscErrorCode destroy(KSP ksp) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] {
    delete static_cast<LockstepCG*>(ksp->data);
    ksp->data = nullptr;
    BILEARN_CHECK(KSPDestroyDefault(ksp));
    for (const char* name :
         {"KSPLockstepCGSetBlocks_C", "KSPLockstepCGGetBlockIterations_C", "KSPLockstepCGSetBlockTolerances_C"})
      BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)ksp, name, nullptr));
  });
}

PetscErrorCode set_from_options(KSP ksp, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBegin;
  LockstepCG& c = data(ksp);
  PetscInt blocks = c.blocks;
  PetscBool set = PETSC_FALSE;
  PetscOptionsHeadBegin(PetscOptionsObject, "KSP lockstepcg options");
  PetscCall(PetscOptionsInt("-ksp_lockstep_cg_blocks", "Diagonal blocks of the stacked system, one CG each",
                            "KSPLockstepCGSetBlocks", blocks, &blocks, &set));
  PetscOptionsHeadEnd();
  if (set) PetscCall(KSPLockstepCGSetBlocks(ksp, blocks));
  PetscFunctionReturn(0);
}

PetscErrorCode view(KSP ksp, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %" PetscInt_FMT " diagonal blocks, one CG each in lockstep\n",
                                     data(ksp).blocks));
  PetscFunctionReturn(0);
}

PetscErrorCode set_blocks_impl(KSP ksp, PetscInt blocks) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] {
    if (blocks < 1) throw InputError("KSP lockstepcg: the number of blocks must be at least 1");
    data(ksp).blocks = blocks;
  });
}

PetscErrorCode set_block_tolerances_impl(KSP ksp, const PetscReal rtol[]) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] {
    LockstepCG& c = data(ksp);
    if (!rtol) {
      c.block_rtol.clear();
      return;
    }
    c.block_rtol.assign(rtol, rtol + c.blocks);
    for (PetscReal r : c.block_rtol)
      require(r >= 0 && std::isfinite(r), "KSPLockstepCGSetBlockTolerances: a tolerance is negative or not finite");
  });
}

PetscErrorCode get_block_iterations_impl(KSP ksp, PetscInt block, PetscInt* iterations) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] {
    const LockstepCG& c = data(ksp);
    require(block >= 0 && block < static_cast<PetscInt>(c.block_its.size()),
            "KSPLockstepCGGetBlockIterations: no such block in the last solve");
    *iterations = c.block_its[static_cast<size_t>(block)];
  });
}

}  // namespace
}  // namespace bilearn::krylov

using namespace bilearn::krylov;

PetscErrorCode KSPCreate_LockstepCG(KSP ksp) {
  return bilearn::guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] {
    ksp->data = new LockstepCG();
    BILEARN_CHECK(KSPSetSupportedNorm(ksp, KSP_NORM_PRECONDITIONED, PC_LEFT, 3));
    BILEARN_CHECK(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_LEFT, 2));
    ksp->ops->setup = setup;
    ksp->ops->solve = solve_callback;
    ksp->ops->destroy = destroy;
    ksp->ops->setfromoptions = set_from_options;
    ksp->ops->view = view;
    ksp->ops->buildsolution = KSPBuildSolutionDefault;
    ksp->ops->buildresidual = KSPBuildResidualDefault;
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)ksp, "KSPLockstepCGSetBlocks_C", set_blocks_impl));
    BILEARN_CHECK(
        PetscObjectComposeFunction((PetscObject)ksp, "KSPLockstepCGGetBlockIterations_C", get_block_iterations_impl));
    BILEARN_CHECK(
        PetscObjectComposeFunction((PetscObject)ksp, "KSPLockstepCGSetBlockTolerances_C", set_block_tolerances_impl));
  });
}

PetscErrorCode KSPLockstepCGSetBlocks(KSP ksp, PetscInt blocks) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPLockstepCGSetBlocks_C", (KSP, PetscInt), (ksp, blocks));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPLockstepCGGetBlockIterations(KSP ksp, PetscInt block, PetscInt* iterations) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscUseMethod(ksp, "KSPLockstepCGGetBlockIterations_C", (KSP, PetscInt, PetscInt*), (ksp, block, iterations));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPLockstepCGSetBlockTolerances(KSP ksp, const PetscReal rtol[]) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPLockstepCGSetBlockTolerances_C", (KSP, const PetscReal[]), (ksp, rtol));
  PetscFunctionReturn(0);
}
