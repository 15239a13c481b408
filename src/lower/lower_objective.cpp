#include "bilearn/lower/lower_objective.hpp"

#include <petsc/private/petscimpl.h>  // PetscObjectStateIncrease

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/problem/folded_operator.hpp"

namespace bilearn {
namespace {

// MatMult of a shell whose context is the objective: y = (objective.*product)(v).
template <void (LowerObjective::*product)(Vec, Vec)>
PetscErrorCode objective_shell_mult(Mat shell, Vec v, Vec y) {
  return guarded(PetscObjectComm((PetscObject)shell), __func__, [&] {
    LowerObjective* objective = nullptr;
    BILEARN_CHECK(MatShellGetContext(shell, &objective));
    (objective->*product)(v, y);
  });
}

// A symmetric MatShell of the image layout whose MatMult is mult.
OwnedMat symmetric_shell(Vec layout, LowerObjective* ctx, PetscErrorCode (*mult)(Mat, Vec, Vec)) {
  PetscInt local, global;
  BILEARN_CHECK(VecGetLocalSize(layout, &local));
  BILEARN_CHECK(VecGetSize(layout, &global));
  OwnedMat shell;
  BILEARN_CHECK(MatCreateShell(PetscObjectComm((PetscObject)layout), local, local, global, global, ctx, shell.out()));
  BILEARN_CHECK(MatShellSetOperation(shell, MATOP_MULT, (void (*)(void))mult));
  BILEARN_CHECK(MatSetOption(shell, MAT_SYMMETRIC, PETSC_TRUE));
  BILEARN_CHECK(MatSetOption(shell, MAT_SYMMETRY_ETERNAL, PETSC_TRUE));
  return shell;
}

// MatGetDiagonal of a shell whose context is the objective: (objective.*diagonal)(d).
template <void (LowerObjective::*diagonal)(Vec)>
PetscErrorCode objective_shell_diagonal(Mat shell, Vec d) {
  return guarded(PetscObjectComm((PetscObject)shell), __func__, [&] {
    LowerObjective* objective = nullptr;
    BILEARN_CHECK(MatShellGetContext(shell, &objective));
    (objective->*diagonal)(d);
  });
}

// Σ_i M_ij² for every column j of a sequential AIJ matrix (no copy of M).
std::vector<PetscScalar> column_square_sums(Mat seq) {
  PetscInt cols;
  BILEARN_CHECK(MatGetSize(seq, nullptr, &cols));
  std::vector<PetscScalar> sums(static_cast<size_t>(cols), 0.0);
  const PetscInt *row_start = nullptr, *col = nullptr;
  PetscBool done = PETSC_FALSE;
  PetscInt n_rows;
  BILEARN_CHECK(MatGetRowIJ(seq, 0, PETSC_FALSE, PETSC_FALSE, &n_rows, &row_start, &col, &done));
  require(done == PETSC_TRUE, "diag(A^T A): the matrix does not give its CSR arrays");
  const PetscScalar* values = nullptr;
  BILEARN_CHECK(MatSeqAIJGetArrayRead(seq, &values));
  for (PetscInt k = 0; k < row_start[n_rows]; ++k) sums[static_cast<size_t>(col[k])] += values[k] * values[k];
  BILEARN_CHECK(MatSeqAIJRestoreArrayRead(seq, &values));
  BILEARN_CHECK(MatRestoreRowIJ(seq, 0, PETSC_FALSE, PETSC_FALSE, &n_rows, &row_start, &col, &done));
  return sums;
}

// diag(AᵀA)_j = Σ_i A_ij². Assembled AIJ: each rank sums the squares of its own entries by
// column, straight from the CSR arrays (no copy of A: a MatDuplicate here was the largest
// transient of a run, one more A per rank); the off-diagonal block's sums go to their owners
// with one VecSetValues(ADD_VALUES) per ghost column. Anything else: column norms.
OwnedVec ata_diagonal(Mat A) {
  if (is_folded(A)) {
    // A's rows are A_p T_t (folded_operator.hpp): column T_t(i) of A_p T_t is column i of A_p,
    // so diag(AᵀA) = Σ_p Σ_t T_tᵀ diag(A_pᵀA_p).
    OwnedVec diag;
    BILEARN_CHECK(MatCreateVecs(A, diag.out(), nullptr));
    folded_sum_over_transforms(A, diag, [](Mat part) { return ata_diagonal(part); });
    return diag;
  }
  OwnedVec diag;
  BILEARN_CHECK(MatCreateVecs(A, diag.out(), nullptr));
  PetscBool is_mpiaij = PETSC_FALSE, is_seqaij = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &is_mpiaij));
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &is_seqaij));
  if (is_mpiaij || is_seqaij) {
    Mat diagonal_block = A, off_block = nullptr;
    const PetscInt* ghost_columns = nullptr;
    if (is_mpiaij) BILEARN_CHECK(MatMPIAIJGetSeqAIJ(A, &diagonal_block, &off_block, &ghost_columns));
    {
      const std::vector<PetscScalar> own = column_square_sums(diagonal_block);
      VecArray d(diag);
      for (size_t j = 0; j < own.size(); ++j) d[static_cast<PetscInt>(j)] = own[j];
    }
    if (off_block) {
      const std::vector<PetscScalar> ghost = column_square_sums(off_block);
      BILEARN_CHECK(VecSetValues(diag, static_cast<PetscInt>(ghost.size()), ghost_columns, ghost.data(), ADD_VALUES));
    }
    BILEARN_CHECK(VecAssemblyBegin(diag));
    BILEARN_CHECK(VecAssemblyEnd(diag));
    return diag;
  }
  PetscInt cols, first, last;
  BILEARN_CHECK(MatGetSize(A, nullptr, &cols));
  std::vector<PetscReal> norms(static_cast<size_t>(cols));
  BILEARN_CHECK(MatGetColumnNorms(A, NORM_2, norms.data()));
  BILEARN_CHECK(VecGetOwnershipRange(diag, &first, &last));
  VecArray d(diag);
  for (PetscInt j = first; j < last; ++j) d[j - first] = norms[static_cast<size_t>(j)] * norms[static_cast<size_t>(j)];
  return diag;
}

}  // namespace
}  // namespace bilearn

namespace bilearn {

LowerObjective::LowerObjective(const ImageGrid& grid, const ForwardModel& model, Regulariser& reg, PetscReal epsilon)
    : grid_(grid), model_(model), reg_(reg), epsilon_(epsilon) {
  require(epsilon >= 0, "the lower-level epsilon must be >= 0");
  BILEARN_CHECK(MatCreateVecs(model_.A, nullptr, residual_.out()));
  work_ = grid_.create_vec();
  diag_ata_ = ata_diagonal(model_.A);
  hessian_ = symmetric_shell(work_, this, objective_shell_mult<&LowerObjective::hessian_mult>);
  BILEARN_CHECK(MatShellSetOperation(hessian_, MATOP_GET_DIAGONAL,
                                     (void (*)(void))objective_shell_diagonal<&LowerObjective::hessian_diagonal>));
  data_hessian_ = symmetric_shell(work_, this, objective_shell_mult<&LowerObjective::data_hessian_mult>);
  BILEARN_CHECK(MatShellSetOperation(data_hessian_, MATOP_GET_DIAGONAL,
                                     (void (*)(void))objective_shell_diagonal<&LowerObjective::data_hessian_diagonal>));
  reg_hessian_ = symmetric_shell(work_, this, objective_shell_mult<&LowerObjective::reg_hessian_mult>);
}

PetscReal LowerObjective::data_gradient_norm() {
  require(data_ != nullptr, "lower objective: no data set");
  PetscObjectId id;
  PetscObjectState state;
  BILEARN_CHECK(PetscObjectGetId(reinterpret_cast<PetscObject>(data_), &id));
  BILEARN_CHECK(PetscObjectStateGet(reinterpret_cast<PetscObject>(data_), &state));
  for (const ScaleCache& c : scales_)
    if (c.id == id && c.state == state) return c.norm;
  PetscReal norm;
  BILEARN_CHECK(MatMultTranspose(model_.A, data_, work_));
  ++operator_applications_;
  BILEARN_CHECK(VecNorm(work_, NORM_2, &norm));
  for (ScaleCache& c : scales_)
    if (c.id == id) {
      c = {id, state, norm};
      return norm;
    }
  scales_.push_back({id, state, norm});
  return norm;
}

PetscReal LowerObjective::value(Vec x, const std::vector<PetscReal>& theta) {
  require(data_ != nullptr, "lower-level objective used before its data was set");
  BILEARN_CHECK(MatMult(model_.A, x, residual_));
  ++operator_applications_;
  BILEARN_CHECK(VecAXPY(residual_, -1.0, data_));
  PetscReal misfit, xnorm;
  BILEARN_CHECK(VecNorm(residual_, NORM_2, &misfit));
  BILEARN_CHECK(VecNorm(x, NORM_2, &xnorm));
  return 0.5 * misfit * misfit + reg_.value(x, theta) + 0.5 * epsilon_ * xnorm * xnorm;
}

PetscReal LowerObjective::value_and_gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) {
  require(data_ != nullptr, "lower-level objective used before its data was set");
  {
    log::ScopedEvent event(log::events().operator_apply);
    BILEARN_CHECK(MatMult(model_.A, x, residual_));
    BILEARN_CHECK(VecAXPY(residual_, -1.0, data_));
    BILEARN_CHECK(MatMultTranspose(model_.A, residual_, g));  // g = Aᵀ(Ax − y)
    operator_applications_ += 2;
  }
  PetscReal misfit, xnorm;
  BILEARN_CHECK(VecNorm(residual_, NORM_2, &misfit));
  BILEARN_CHECK(VecNorm(x, NORM_2, &xnorm));
  reg_.gradient(x, theta, work_);
  BILEARN_CHECK(VecAXPBYPCZ(g, 1.0, epsilon_, 1.0, work_, x));  // g += ∇R + εx
  return 0.5 * misfit * misfit + reg_.value(x, theta) + 0.5 * epsilon_ * xnorm * xnorm;
}

void LowerObjective::set_point(Vec x, const std::vector<PetscReal>& theta) {
  reg_.set_point(x, theta);
  // H's entries changed although the MatShell did not: tell PETSc (KSPs, recycle spaces).
  BILEARN_CHECK(PetscObjectStateIncrease((PetscObject)hessian_.get()));
  BILEARN_CHECK(PetscObjectStateIncrease((PetscObject)reg_hessian_.get()));
}

void LowerObjective::data_hessian_mult(Vec v, Vec y) {
  {
    log::ScopedEvent event(log::events().operator_apply);
    BILEARN_CHECK(MatMult(model_.A, v, residual_));
    BILEARN_CHECK(MatMultTranspose(model_.A, residual_, y));
    operator_applications_ += 2;
  }
  BILEARN_CHECK(VecAXPY(y, epsilon_, v));
  ++data_products_;
}

void LowerObjective::data_hessian_diagonal(Vec d) {
  BILEARN_CHECK(VecCopy(diag_ata_, d));
  BILEARN_CHECK(VecShift(d, epsilon_));
}

void LowerObjective::reg_hessian_mult(Vec v, Vec y) {
  reg_.hessian_mult(v, y);
  ++reg_products_;
}

void LowerObjective::mixed_mult(Vec v, PetscReal* Jv) {
  reg_.mixed_mult(v, jv_);
  std::copy(jv_.begin(), jv_.end(), Jv);
  ++mixed_products_;
}

void LowerObjective::hessian_mult(Vec v, Vec y) {
  log::ScopedEvent event(log::events().hessian_apply);
  BILEARN_CHECK(MatMult(model_.A, v, residual_));
  BILEARN_CHECK(MatMultTranspose(model_.A, residual_, y));  // y = AᵀA v
  operator_applications_ += 2;
  reg_.hessian_mult(v, work_);
  BILEARN_CHECK(VecAXPBYPCZ(y, 1.0, epsilon_, 1.0, work_, v));  // y += ∇²R v + εv
  ++hessian_products_;
}

void LowerObjective::hessian_diagonal(Vec d) {
  reg_.hessian_diagonal(d);
  BILEARN_CHECK(VecAXPY(d, 1.0, diag_ata_));
  BILEARN_CHECK(VecShift(d, epsilon_));
}

}  // namespace bilearn
