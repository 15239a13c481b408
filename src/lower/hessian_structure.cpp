#include "bilearn/lower/hessian_structure.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"

namespace bilearn {
namespace {

PetscErrorCode mixed_mult_callback(void* ctx, Vec v, PetscReal* jv) {
  auto* objective = static_cast<LowerObjective*>(ctx);
  return guarded(PetscObjectComm((PetscObject)v), __func__, [&] { objective->mixed_mult(v, jv); });
}

}  // namespace

bool is_recycling_ksp(KSP ksp) {
  PetscBool recycling = PETSC_FALSE;
  BILEARN_CHECK(KSPRecycleIsRecycling(ksp, &recycling));
  return recycling;
}

void share_hessian_structure(KSP ksp, LowerObjective& objective) {
  BILEARN_CHECK(KSPRecycleSetOperatorSplit(ksp, objective.data_hessian(), objective.reg_hessian()));
  BILEARN_CHECK(KSPRecycleSetMixedOperator(ksp, objective.regulariser().num_params(), mixed_mult_callback, &objective));
  PC pc;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  share_pc_structure(pc, objective);
}

void share_pc_structure(PC pc, LowerObjective& objective) {
  BILEARN_CHECK(PCCirculantSetDM(pc, objective.grid().dm()));
  BILEARN_CHECK(PCCirculantSetOperatorSplit(pc, objective.data_hessian(), objective.reg_hessian()));
  BILEARN_CHECK(PCCirculantSetDefaultKernel(pc, objective.model().circulant_kernel.c_str()));
}

void LowerObjective::share_hessian_structure(KSP ksp) {
  bilearn::share_hessian_structure(ksp, *this);
}

}  // namespace bilearn
