// The KSPRecycle* C API: each function dispatches to the method the recycling types compose on
// the KSP (src/krylov/recycle/recycle_ksp.cpp), as PETSc's KSPGMRESSetRestart does, so that on
// another KSP type the setters are no-ops.
#include "bilearn/krylov/ksp_recycle.hpp"

#include <petsc/private/petscimpl.h>

PetscErrorCode KSPRecycleSetOperatorSplit(KSP ksp, Mat fixed, Mat varying) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPRecycleSetOperatorSplit_C", (KSP, Mat, Mat), (ksp, fixed, varying));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleSetMixedOperator(KSP ksp, PetscInt p, PetscErrorCode (*jmult)(void*, Vec, PetscReal*),
                                          void* ctx) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPRecycleSetMixedOperator_C", (KSP, PetscInt, PetscErrorCode(*)(void*, Vec, PetscReal*), void*),
                 (ksp, p, jmult, ctx));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleSetK(KSP ksp, PetscInt k) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscValidLogicalCollectiveInt(ksp, k, 2);
  PetscTryMethod(ksp, "KSPRecycleSetK_C", (KSP, PetscInt), (ksp, k));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleSetUpdate(KSP ksp, PetscBool update) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscValidLogicalCollectiveBool(ksp, update, 2);
  PetscTryMethod(ksp, "KSPRecycleSetUpdate_C", (KSP, PetscBool), (ksp, update));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleSetSpace(KSP ksp, PetscInt n, const Vec vecs[]) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPRecycleSetSpace_C", (KSP, PetscInt, const Vec[]), (ksp, n, vecs));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleCopySpace(KSP from, KSP to) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(from, KSP_CLASSID, 1);
  PetscValidHeaderSpecific(to, KSP_CLASSID, 2);
  PetscTryMethod(to, "KSPRecycleCopySpace_C", (KSP, KSP), (to, from));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleGetSpace(KSP ksp, PetscInt* n, const Vec** vecs) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscUseMethod(ksp, "KSPRecycleGetSpace_C", (KSP, PetscInt*, const Vec**), (ksp, n, vecs));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleGetSpaceState(KSP ksp, PetscInt* n_products, const Vec** products, PetscBool* from_update) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  *n_products = 0;  // what another KSP type reports
  *products = nullptr;
  *from_update = PETSC_FALSE;
  PetscTryMethod(ksp, "KSPRecycleGetSpaceState_C", (KSP, PetscInt*, const Vec**, PetscBool*),
                 (ksp, n_products, products, from_update));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleSetSpaceState(KSP ksp, PetscInt n, const Vec vecs[], const Vec products[],
                                       PetscBool from_update) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPRecycleSetSpaceState_C", (KSP, PetscInt, const Vec[], const Vec[], PetscBool),
                 (ksp, n, vecs, products, from_update));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleIsRecycling(KSP ksp, PetscBool* recycling) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscValidBoolPointer(recycling, 2);
  PetscCall(PetscObjectTypeCompareAny((PetscObject)ksp, recycling, KSPRMINRES, KSPRCG, ""));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleResetSpace(KSP ksp) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscTryMethod(ksp, "KSPRecycleResetSpace_C", (KSP), (ksp));
  PetscFunctionReturn(0);
}

PetscErrorCode KSPRecycleGetInfo(KSP ksp, KSPRecycleInfo* info) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(ksp, KSP_CLASSID, 1);
  PetscUseMethod(ksp, "KSPRecycleGetInfo_C", (KSP, KSPRecycleInfo*), (ksp, info));
  PetscFunctionReturn(0);
}
