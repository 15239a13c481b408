#include "bilearn/lower/lower_objective.hpp"

#include <petsc/private/petscimpl.h>  // PetscObjectStateIncrease

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"

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

// Squares every stored entry of a sequential AIJ matrix in place.
void square_seqaij_values(Mat seq) {
  PetscInt rows;
  BILEARN_CHECK(MatGetLocalSize(seq, &rows, nullptr));
  const PetscInt* row_start = nullptr;
  PetscBool done = PETSC_FALSE;
  PetscInt n_rows;
  BILEARN_CHECK(MatGetRowIJ(seq, 0, PETSC_FALSE, PETSC_FALSE, &n_rows, &row_start, nullptr, &done));
  const PetscInt nnz = done ? row_start[n_rows] : 0;
  BILEARN_CHECK(MatRestoreRowIJ(seq, 0, PETSC_FALSE, PETSC_FALSE, &n_rows, &row_start, nullptr, &done));
  PetscScalar* values = nullptr;
  BILEARN_CHECK(MatSeqAIJGetArray(seq, &values));
  for (PetscInt k = 0; k < nnz; ++k) values[k] *= values[k];
  BILEARN_CHECK(MatSeqAIJRestoreArray(seq, &values));
}

// diag(AᵀA)_j = Σ_i A_ij²: (A∘A)ᵀ 1 for assembled AIJ matrices (each rank squares its own
// entries); column norms for anything else.
OwnedVec ata_diagonal(Mat A) {
  OwnedVec ones, diag;
  BILEARN_CHECK(MatCreateVecs(A, diag.out(), ones.out()));
  PetscBool is_mpiaij = PETSC_FALSE, is_seqaij = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &is_mpiaij));
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &is_seqaij));
  if (is_mpiaij || is_seqaij) {
    OwnedMat squared;
    BILEARN_CHECK(MatDuplicate(A, MAT_COPY_VALUES, squared.out()));
    if (is_mpiaij) {
      Mat diagonal_block, off_block;
      BILEARN_CHECK(MatMPIAIJGetSeqAIJ(squared, &diagonal_block, &off_block, nullptr));
      square_seqaij_values(diagonal_block);
      square_seqaij_values(off_block);
    } else {
      square_seqaij_values(squared);
    }
    BILEARN_CHECK(VecSet(ones, 1.0));
    BILEARN_CHECK(MatMultTranspose(squared, ones, diag));
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
