#include "bilearn/lower/hessian_structure.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/problem/operator_cache.hpp"

namespace bilearn {
namespace {

PetscErrorCode mixed_mult_callback(void* ctx, Vec v, PetscReal* jv) {
  auto* objective = static_cast<LowerObjective*>(ctx);
  return guarded(PetscObjectComm((PetscObject)v), __func__, [&] { objective->mixed_mult(v, jv); });
}

// PC circulant's symbol of F kept in the service's cache (operator_cache.hpp) across jobs.
PetscErrorCode find_stored_symbol(MPI_Comm comm, const char key[], PetscInt n, PetscReal values[], PetscBool* found) {
  return guarded(comm, __func__, [&] {
    std::vector<PetscReal> symbol;
    OperatorCache* cache = active_operator_cache();
    bool hit = cache && cache->find_values(comm, CacheKind::pc_symbol, key, symbol);
    // A symbol of another length (not expected: the key fixes the layout) counts as absent everywhere.
    int fits = !hit || static_cast<PetscInt>(symbol.size()) == n;
    BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, &fits, 1, MPI_INT, MPI_MIN, comm));
    hit = hit && fits;
    if (hit) std::copy(symbol.begin(), symbol.end(), values);
    *found = hit ? PETSC_TRUE : PETSC_FALSE;
  });
}

PetscErrorCode keep_symbol(MPI_Comm comm, const char key[], PetscInt n, const PetscReal values[]) {
  return guarded(comm, __func__, [&] {
    if (OperatorCache* cache = active_operator_cache())
      cache->store_values(comm, CacheKind::pc_symbol, key, std::vector<PetscReal>(values, values + n));
  });
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
  // In the service, F = AᵀA + εI is named by its operator's cache key and ε (Λ_F is then estimated
  // once per geometry and ε, not once per job); elsewhere the key is empty and nothing is kept.
  if (!objective.model().cache_key.empty()) {
    static const PCCirculantSymbolStore store{find_stored_symbol, keep_symbol};
    const std::string key = objective.model().cache_key + " | epsilon=" + exact_number(objective.epsilon());
    BILEARN_CHECK(PCCirculantSetFixedSymbolStore(pc, key.c_str(), &store));
  }
}

void LowerObjective::share_hessian_structure(KSP ksp) {
  bilearn::share_hessian_structure(ksp, *this);
}

}  // namespace bilearn
