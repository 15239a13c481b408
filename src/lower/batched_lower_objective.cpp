#include "bilearn/lower/batched_lower_objective.hpp"

#include <petsc/private/petscimpl.h>  // PetscObjectStateIncrease

#include <algorithm>
#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/lower/hessian_structure.hpp"
#include "bilearn/lower/tao_block_armijo.h"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/folded_operator.hpp"

namespace bilearn {

// The blocks of a stacked vector placed on per-block views for the scope's lifetime. Read-only
// placement leaves the stacked vector's state alone; writable placement increases it on exit.
class PlacedBlocks {
 public:
  PlacedBlocks(Vec stacked, std::vector<OwnedVec>& views, PetscInt local, bool writable)
      : stacked_(stacked), views_(views), writable_(writable) {
    if (writable_) {
      BILEARN_CHECK(VecGetArray(stacked_, &array_));
    } else {
      const PetscScalar* read = nullptr;
      BILEARN_CHECK(VecGetArrayRead(stacked_, &read));
      array_ = const_cast<PetscScalar*>(read);  // the views are only read
    }
    for (size_t s = 0; s < views_.size(); ++s)
      BILEARN_CHECK(VecPlaceArray(views_[s], array_ + static_cast<PetscInt>(s) * local));
  }
  ~PlacedBlocks() {
    for (OwnedVec& view : views_) VecResetArray(view);
    if (writable_) {
      VecRestoreArray(stacked_, &array_);
    } else {
      const PetscScalar* read = array_;
      VecRestoreArrayRead(stacked_, &read);
    }
  }
  PlacedBlocks(const PlacedBlocks&) = delete;
  PlacedBlocks& operator=(const PlacedBlocks&) = delete;
  Vec operator[](size_t s) const { return views_[s]; }

 private:
  Vec stacked_;
  std::vector<OwnedVec>& views_;
  bool writable_;
  PetscScalar* array_ = nullptr;
};

namespace {

template <void (BatchedLowerObjective::*product)(Vec, Vec)>
PetscErrorCode batched_shell_mult(Mat shell, Vec v, Vec y) {
  return guarded(PetscObjectComm((PetscObject)shell), __func__, [&] {
    BatchedLowerObjective* objective = nullptr;
    BILEARN_CHECK(MatShellGetContext(shell, &objective));
    (objective->*product)(v, y);
  });
}

// KSP lockstepcg's notice of the blocks still iterating (ksp_lockstep_cg.h).
PetscErrorCode hessian_set_active_blocks(PetscObject shell, PetscInt blocks, const PetscBool active[]) {
  return guarded(PetscObjectComm(shell), __func__, [&] {
    BatchedLowerObjective* objective = nullptr;
    BILEARN_CHECK(MatShellGetContext((Mat)shell, &objective));
    require(blocks == objective->blocks(), "batched lower objective: lockstepcg's block count is not the batch's");
    objective->set_active_blocks(active);
  });
}

PetscErrorCode batched_shell_diagonal(Mat shell, Vec d) {
  return guarded(PetscObjectComm((PetscObject)shell), __func__, [&] {
    BatchedLowerObjective* objective = nullptr;
    BILEARN_CHECK(MatShellGetContext(shell, &objective));
    objective->hessian_diagonal(d);
  });
}

OwnedMat stacked_shell(MPI_Comm comm, PetscInt local, PetscInt global, BatchedLowerObjective* ctx,
                       PetscErrorCode (*mult)(Mat, Vec, Vec)) {
  OwnedMat shell;
  BILEARN_CHECK(MatCreateShell(comm, local, local, global, global, ctx, shell.out()));
  BILEARN_CHECK(MatShellSetOperation(shell, MATOP_MULT, (void (*)(void))mult));
  BILEARN_CHECK(MatSetOption(shell, MAT_SYMMETRIC, PETSC_TRUE));
  BILEARN_CHECK(MatSetOption(shell, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  return shell;
}

// count grid-layout Vecs without arrays of their own, to be placed on the blocks of stacked vectors.
std::vector<OwnedVec> block_views(MPI_Comm comm, PetscInt local, size_t count) {
  std::vector<OwnedVec> views(count);
  for (OwnedVec& view : views)
    BILEARN_CHECK(VecCreateMPIWithArray(comm, 1, local, PETSC_DETERMINE, nullptr, view.out()));
  return views;
}

// Block s (n entries) into the interlaced array out (entry i of block s at i·B + s).
void interlace_block(const PetscScalar* block, PetscScalar* out, PetscInt s, PetscInt blocks, PetscInt n) {
  for (PetscInt i = 0; i < n; ++i) out[i * blocks + s] = block[i];
}

// stacked (block-major) ↔ interlaced, this rank's part.
void interlace(Vec stacked, Vec interlaced, PetscInt blocks, PetscInt local) {
  ConstVecArray in(stacked);
  VecArray out(interlaced);
  for (PetscInt s = 0; s < blocks; ++s) interlace_block(in.data() + s * local, out.data(), s, blocks, local);
}

void deinterlace(Vec interlaced, Vec stacked, PetscInt blocks, PetscInt local) {
  ConstVecArray in(interlaced);
  VecArray out(stacked);
  for (PetscInt s = 0; s < blocks; ++s) {
    PetscScalar* block = out.data() + s * local;
    for (PetscInt i = 0; i < local; ++i) block[i] = in[i * blocks + s];
  }
}

}  // namespace

BatchedLowerObjective::BatchedLowerObjective(const std::vector<LowerObjective*>& samples) : samples_(samples) {
  require(!samples_.empty(), "batched lower objective: no samples");
  LowerObjective& first = *samples_.front();
  for (LowerObjective* s : samples_)
    require(&s->model() == &first.model() && &s->grid() == &first.grid() && s->epsilon() == first.epsilon(),
            "batched lower objective: the samples must share the grid, the forward model and epsilon");
  epsilon_ = first.epsilon();
  local_ = first.grid().local_size();
  const PetscInt B = blocks();
  MPI_Comm comm = first.comm();
  Mat A = first.model().A;
  block_a_ = block_operator(A, B);
  if (Mat At = explicit_transpose(A)) BILEARN_CHECK(MatCreateMAIJ(At, B, block_at_.out()));
  BILEARN_CHECK(MatCreateVecs(block_a_, image_int_.out(), data_int_.out()));
  BILEARN_CHECK(VecDuplicate(data_int_, measured_int_.out()));
  work_ = create_vec();
  in_views_ = block_views(comm, local_, samples_.size());
  out_views_ = block_views(comm, local_, samples_.size());
  PetscInt global;
  BILEARN_CHECK(VecGetSize(work_, &global));
  hessian_ = stacked_shell(comm, B * local_, global, this, batched_shell_mult<&BatchedLowerObjective::hessian_mult>);
  BILEARN_CHECK(MatShellSetOperation(hessian_, MATOP_GET_DIAGONAL, (void (*)(void))batched_shell_diagonal));
  BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)hessian_.get(), KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS,
                                           hessian_set_active_blocks));
  active_.assign(samples_.size(), 1);
  fewer_columns_.resize(samples_.size());  // up to B: a padded product may use all B columns
  data_hessian_ =
      stacked_shell(comm, B * local_, global, this, batched_shell_mult<&BatchedLowerObjective::data_hessian_mult>);
  reg_hessian_ =
      stacked_shell(comm, B * local_, global, this, batched_shell_mult<&BatchedLowerObjective::reg_hessian_mult>);
}

OwnedVec BatchedLowerObjective::create_vec() const {
  OwnedVec v;
  BILEARN_CHECK(VecCreateMPI(comm(), blocks() * local_, PETSC_DETERMINE, v.out()));
  return v;
}

void BatchedLowerObjective::set_data(const std::vector<Vec>& data) {
  require(data.size() == samples_.size(), "batched lower objective: one data vector per sample");
  const PetscInt B = blocks();
  PetscInt data_local;
  BILEARN_CHECK(VecGetLocalSize(data.front(), &data_local));
  VecArray out(measured_int_);
  for (PetscInt s = 0; s < B; ++s) {
    samples_[static_cast<size_t>(s)]->set_data(data[static_cast<size_t>(s)]);
    ConstVecArray in(data[static_cast<size_t>(s)]);
    interlace_block(in.data(), out.data(), s, B, data_local);
  }
}

void BatchedLowerObjective::gather(const std::vector<Vec>& parts, Vec stacked) const {
  VecArray out(stacked);
  for (size_t s = 0; s < parts.size(); ++s) {
    ConstVecArray in(parts[s]);
    std::copy(in.data(), in.data() + local_, out.data() + static_cast<PetscInt>(s) * local_);
  }
}

void BatchedLowerObjective::scatter(Vec stacked, const std::vector<Vec>& parts) const {
  ConstVecArray in(stacked);
  for (size_t s = 0; s < parts.size(); ++s) {
    VecArray out(parts[s]);
    std::copy(in.data() + static_cast<PetscInt>(s) * local_, in.data() + static_cast<PetscInt>(s + 1) * local_,
              out.data());
  }
}

void BatchedLowerObjective::normal_product(Vec x, Vec out, bool subtract_data) {
  log::ScopedEvent event(log::events().operator_apply);
  const PetscInt B = blocks();
  interlace(x, image_int_, B, local_);
  BILEARN_CHECK(MatMult(block_a_, image_int_, data_int_));
  if (subtract_data) BILEARN_CHECK(VecAXPY(data_int_, -1.0, measured_int_));
  if (block_at_) {
    BILEARN_CHECK(MatMult(block_at_, data_int_, image_int_));
  } else {
    BILEARN_CHECK(MatMultTranspose(block_a_, data_int_, image_int_));
  }
  deinterlace(image_int_, out, B, local_);
  operator_applications_ += 2 * B;
}

BatchedLowerObjective::BlockProduct& BatchedLowerObjective::block_product(PetscInt columns) {
  BlockProduct& p = fewer_columns_[static_cast<size_t>(columns - 1)];
  if (p.a) return p;
  Mat A = samples_.front()->model().A;
  p.a = block_operator(A, columns);  // A itself for one column
  if (Mat At = explicit_transpose(A)) BILEARN_CHECK(MatCreateMAIJ(At, columns, p.at.out()));
  PetscInt data_local;
  BILEARN_CHECK(VecGetLocalSize(data_int_, &data_local));
  data_local /= blocks();
  BILEARN_CHECK(VecCreateMPIWithArray(comm(), 1, columns * local_, PETSC_DETERMINE, nullptr, p.image.out()));
  BILEARN_CHECK(VecCreateMPIWithArray(comm(), 1, columns * data_local, PETSC_DETERMINE, nullptr, p.data.out()));
  return p;
}

void BatchedLowerObjective::active_normal_product(Vec x, Vec out) {
  log::ScopedEvent event(log::events().operator_apply);
  const PetscInt B = blocks();
  const PetscInt b = static_cast<PetscInt>(std::count(active_.begin(), active_.end(), 1));
  if (b == 0) {
    BILEARN_CHECK(VecZeroEntries(out));
    return;
  }
  // The active blocks in the first b of `width` columns (a width PETSc's MAIJ kernels unroll),
  // zeros in the rest.
  const PetscInt width = fast_block_columns(samples_.front()->model().A, b, B);
  BlockProduct& p = block_product(width);
  {
    VecArray image(image_int_), data(data_int_);
    {
      ConstVecArray in(x);
      for (PetscInt s = 0, k = 0; s < B; ++s)
        if (active_[static_cast<size_t>(s)]) interlace_block(in.data() + s * local_, image.data(), k++, width, local_);
      for (PetscInt k = b; k < width; ++k)
        for (PetscInt i = 0; i < local_; ++i) image[i * width + k] = 0.0;
    }
    BILEARN_CHECK(VecPlaceArray(p.image, image.data()));
    BILEARN_CHECK(VecPlaceArray(p.data, data.data()));
    const PetscErrorCode forward = MatMult(p.a, p.image, p.data);
    const PetscErrorCode back =
        forward ? forward : (p.at ? MatMult(p.at, p.data, p.image) : MatMultTranspose(p.a, p.data, p.image));
    BILEARN_CHECK(VecResetArray(p.image));
    BILEARN_CHECK(VecResetArray(p.data));
    BILEARN_CHECK(back);
    VecArray o(out);
    for (PetscInt s = 0, k = 0; s < B; ++s) {
      PetscScalar* block = o.data() + s * local_;
      if (!active_[static_cast<size_t>(s)]) {
        std::fill(block, block + local_, 0.0);
        continue;
      }
      for (PetscInt i = 0; i < local_; ++i) block[i] = image[i * width + k];
      ++k;
    }
  }
  operator_applications_ += 2 * b;
}

void BatchedLowerObjective::set_active_blocks(const PetscBool active[]) {
  for (size_t s = 0; s < active_.size(); ++s) active_[s] = !active || active[s] ? 1 : 0;
}

PetscReal BatchedLowerObjective::value_and_gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) {
  normal_product(x, g, true);  // g = Aᵀ(Ax − y), block by block; data_int_ keeps Ax − y
  const PetscInt B = blocks();
  const size_t nb = samples_.size();
  // Φ_s = ½‖A x_s − y_s‖² + R(x_s) + ½ε‖x_s‖², each block's own value (the line search's).
  std::vector<PetscReal> sums(2 * nb, 0.0);
  {
    ConstVecArray r(data_int_), xa(x);
    PetscInt data_local;
    BILEARN_CHECK(VecGetLocalSize(data_int_, &data_local));
    data_local /= B;
    for (PetscInt i = 0; i < data_local; ++i)
      for (PetscInt s = 0; s < B; ++s) sums[static_cast<size_t>(s)] += r[i * B + s] * r[i * B + s];
    for (PetscInt s = 0; s < B; ++s)
      for (PetscInt i = s * local_; i < (s + 1) * local_; ++i) sums[nb + static_cast<size_t>(s)] += xa[i] * xa[i];
  }
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPIU_REAL, MPIU_SUM, comm()));
  block_values_.assign(nb, 0.0);
  {
    PlacedBlocks xs(x, in_views_, local_, false);
    PlacedBlocks ws(work_, out_views_, local_, true);
    for (size_t s = 0; s < nb; ++s) {
      Regulariser& reg = samples_[s]->regulariser();
      reg.gradient(xs[s], theta, ws[s]);
      block_values_[s] = 0.5 * sums[s] + reg.value(xs[s], theta) + 0.5 * epsilon_ * sums[nb + s];
    }
  }
  BILEARN_CHECK(VecAXPBYPCZ(g, 1.0, epsilon_, 1.0, work_, x));  // g += ∇R + εx
  PetscReal total = 0;
  for (PetscReal v : block_values_) total += v;
  return total;
}

void BatchedLowerObjective::set_point(Vec x, const std::vector<PetscReal>& theta) {
  {
    PlacedBlocks xs(x, in_views_, local_, false);
    for (size_t s = 0; s < samples_.size(); ++s) samples_[s]->set_point(xs[s], theta);  // the regularisers copy x_s
  }
  BILEARN_CHECK(PetscObjectStateIncrease((PetscObject)hessian_.get()));
  BILEARN_CHECK(PetscObjectStateIncrease((PetscObject)reg_hessian_.get()));
}

bool BatchedLowerObjective::begin_dual_newton() {
  bool any = false;
  for (LowerObjective* s : samples_) any = s->begin_dual_newton() || any;  // every sample's own dual variable
  return any;
}

void BatchedLowerObjective::end_dual_newton() {
  for (LowerObjective* s : samples_) s->end_dual_newton();
}

PetscReal BatchedLowerObjective::data_gradient_norm() {
  PetscReal smallest = PETSC_INFINITY;
  for (LowerObjective* s : samples_) smallest = std::min(smallest, s->data_gradient_norm());  // each cached
  return smallest;
}

void BatchedLowerObjective::hessian_mult(Vec v, Vec y) {
  log::ScopedEvent event(log::events().hessian_apply);
  const PetscInt active = static_cast<PetscInt>(std::count(active_.begin(), active_.end(), 1));
  if (active == blocks()) {
    normal_product(v, y, false);
  } else {
    active_normal_product(v, y);  // zero on the inactive blocks
  }
  reg_hessian_mult(v, work_);
  BILEARN_CHECK(VecAXPBYPCZ(y, 1.0, epsilon_, 1.0, work_, v));  // y += ∇²R v + εv
  if (active < blocks()) {
    VecArray o(y);
    for (size_t s = 0; s < active_.size(); ++s)
      if (!active_[s])
        std::fill(o.data() + static_cast<PetscInt>(s) * local_, o.data() + static_cast<PetscInt>(s + 1) * local_, 0.0);
  }
  hessian_products_ += active;
}

void BatchedLowerObjective::data_hessian_mult(Vec v, Vec y) {
  normal_product(v, y, false);
  BILEARN_CHECK(VecAXPY(y, epsilon_, v));
}

void BatchedLowerObjective::reg_hessian_mult(Vec v, Vec y) {
  PlacedBlocks vs(v, in_views_, local_, false);
  PlacedBlocks ys(y, out_views_, local_, true);
  for (size_t s = 0; s < samples_.size(); ++s) {
    if (active_[s]) {
      samples_[s]->regulariser().hessian_mult(vs[s], ys[s]);
    } else {
      BILEARN_CHECK(VecZeroEntries(ys[s]));
    }
  }
}

void BatchedLowerObjective::mixed_mult_sum(Vec w, std::vector<PetscReal>& jw) {
  PlacedBlocks ws(w, in_views_, local_, false);
  jw.assign(static_cast<size_t>(regulariser().num_params()), 0.0);
  for (size_t s = 0; s < samples_.size(); ++s) {
    samples_[s]->mixed_mult(ws[s], jw_);
    for (size_t i = 0; i < jw.size(); ++i) jw[i] += jw_[i];
  }
}

void BatchedLowerObjective::hessian_diagonal(Vec d) {
  PlacedBlocks ds(d, out_views_, local_, true);
  for (size_t s = 0; s < samples_.size(); ++s) samples_[s]->hessian_diagonal(ds[s]);
}

namespace {

// PC circulant per sample: block s of a stacked vector goes through sample s's own PC circulant
// (its symbol follows that sample's curvature; docs/algorithms.md §4.5, §4.7).
struct BlockCirculant {
  std::vector<OwnedPC> pcs;
  std::vector<OwnedVec> in_views, out_views;
  PetscInt local = 0;
  std::vector<char> active;  // blocks KSP lockstepcg still iterates (the others' output is zero)
};

PetscErrorCode block_circulant_set_active_blocks(PetscObject pc, PetscInt blocks, const PetscBool active[]) {
  return guarded(PetscObjectComm(pc), __func__, [&] {
    BlockCirculant* b = nullptr;
    BILEARN_CHECK(PCShellGetContext((PC)pc, &b));
    require(blocks == static_cast<PetscInt>(b->pcs.size()),
            "batched PC circulant: lockstepcg's block count is not the batch's");
    for (size_t s = 0; s < b->active.size(); ++s) b->active[s] = !active || active[s] ? 1 : 0;
  });
}

PetscErrorCode block_circulant_setup(PC pc) {
  return guarded(PetscObjectComm((PetscObject)pc), __func__, [&] {
    BlockCirculant* b = nullptr;
    BILEARN_CHECK(PCShellGetContext(pc, &b));
    for (OwnedPC& inner : b->pcs) BILEARN_CHECK(PCSetUp(inner));
  });
}

PetscErrorCode block_circulant_apply(PC pc, Vec x, Vec y) {
  return guarded(PetscObjectComm((PetscObject)pc), __func__, [&] {
    BlockCirculant* b = nullptr;
    BILEARN_CHECK(PCShellGetContext(pc, &b));
    PlacedBlocks xs(x, b->in_views, b->local, false);
    PlacedBlocks ys(y, b->out_views, b->local, true);
    for (size_t s = 0; s < b->pcs.size(); ++s) {
      if (b->active[s]) {
        BILEARN_CHECK(PCApply(b->pcs[s], xs[s], ys[s]));
      } else {
        BILEARN_CHECK(VecZeroEntries(ys[s]));
      }
    }
  });
}

PetscErrorCode block_circulant_destroy(PC pc) {
  return guarded(PetscObjectComm((PetscObject)pc), __func__, [&] {
    BlockCirculant* b = nullptr;
    BILEARN_CHECK(PCShellGetContext(pc, &b));
    delete b;
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, nullptr));
  });
}

}  // namespace

void BatchedLowerObjective::share_hessian_structure(KSP ksp) {
  BILEARN_CHECK(KSPRecycleSetOperatorSplit(ksp, data_hessian_, reg_hessian_));
  // CG becomes one CG per sample in lockstep: each sample keeps its own iterates and stopping test
  // (a CG on the whole stacked system would need the iterations of its hardest sample and more).
  PetscBool cg = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)ksp, KSPCG, &cg));
  if (cg) {
    BILEARN_CHECK(KSPSetType(ksp, KSPLOCKSTEPCG));
    BILEARN_CHECK(KSPLockstepCGSetBlocks(ksp, blocks()));
  }
  PC pc;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  PetscBool circulant = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)pc, PCCIRCULANT, &circulant));
  if (!circulant) return;  // other PCs see the stacked H (Jacobi: its diagonal)
  const char* prefix = nullptr;
  BILEARN_CHECK(PCGetOptionsPrefix(pc, &prefix));
  auto* block = new BlockCirculant();
  block->local = local_;
  block->active.assign(samples_.size(), 1);
  MPI_Comm comm = this->comm();
  block->in_views = block_views(comm, local_, samples_.size());
  block->out_views = block_views(comm, local_, samples_.size());
  for (LowerObjective* s : samples_) {
    OwnedPC inner;
    BILEARN_CHECK(PCCreate(comm, inner.out()));
    BILEARN_CHECK(PCSetOptionsPrefix(inner, prefix));
    BILEARN_CHECK(PCSetType(inner, PCCIRCULANT));
    BILEARN_CHECK(PCSetFromOptions(inner));
    share_pc_structure(inner, *s);
    BILEARN_CHECK(PCSetOperators(inner, s->hessian(), s->hessian()));
    block->pcs.push_back(std::move(inner));
  }
  BILEARN_CHECK(PCSetType(pc, PCSHELL));
  BILEARN_CHECK(PCShellSetContext(pc, block));
  BILEARN_CHECK(PCShellSetName(pc, "circulant, one per sample of the batch"));
  BILEARN_CHECK(PCShellSetSetUp(pc, block_circulant_setup));
  BILEARN_CHECK(PCShellSetApply(pc, block_circulant_apply));
  BILEARN_CHECK(PCShellSetDestroy(pc, block_circulant_destroy));
  BILEARN_CHECK(
      PetscObjectComposeFunction((PetscObject)pc, KSPLOCKSTEPCG_SET_ACTIVE_BLOCKS, block_circulant_set_active_blocks));
}

namespace {

PetscErrorCode batch_block_values(void* ctx, PetscReal f[]) {
  const auto* batch = static_cast<const BatchedLowerObjective*>(ctx);
  const std::vector<PetscReal>& v = batch->block_values();
  std::copy(v.begin(), v.end(), f);
  return 0;
}

}  // namespace

// One TAO line search for the stacked problem moved every sample by the step the hardest one
// allowed (N = 64, S = 4, cold: steps of 0.2–0.3 for all, 56 Newton iterations against 38 one
// sample at a time); blockarmijo gives each sample its own step (docs/algorithms.md §4.7).
void BatchedLowerObjective::share_line_search(TaoLineSearch ls) {
  static bool registered = false;
  if (!registered) {
    BILEARN_CHECK(TaoLineSearchRegister(TAOLINESEARCHBLOCKARMIJO, TaoLineSearchCreate_BlockArmijo));
    registered = true;
  }
  BILEARN_CHECK(TaoLineSearchSetType(ls, TAOLINESEARCHBLOCKARMIJO));
  BILEARN_CHECK(TaoLineSearchBlockArmijoSetBlocks(ls, blocks(), batch_block_values, this));
  BILEARN_CHECK(TaoLineSearchSetFromOptions(ls));
}

}  // namespace bilearn
