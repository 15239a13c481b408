#include "bilearn/hypergrad/hypergradient_ksp.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/krylov/pc_circulant.h"
#include "bilearn/lower/hessian_structure.hpp"

namespace bilearn {
namespace {

constexpr const char* kPrefix = "hyper_";

bool user_set(const char* name) {
  PetscBool set = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(nullptr, kPrefix, name, &set));
  return set == PETSC_TRUE;
}

bool has_type(KSP ksp, const char* type) {
  PetscBool same = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)ksp, type, &same));
  return same == PETSC_TRUE;
}

// The KSP with its defaults (see the header), before the options are read.
void create_with_defaults(MPI_Comm comm, KSP* ksp) {
  BILEARN_CHECK(KSPCreate(comm, ksp));
  BILEARN_CHECK(KSPSetOptionsPrefix(*ksp, kPrefix));
  BILEARN_CHECK(KSPSetType(*ksp, KSPCG));
  BILEARN_CHECK(KSPSetTolerances(*ksp, 1e-6, PETSC_DEFAULT, PETSC_DEFAULT, 10000));
  BILEARN_CHECK(KSPSetNormType(*ksp, KSP_NORM_UNPRECONDITIONED));
  PC pc;
  BILEARN_CHECK(KSPGetPC(*ksp, &pc));
  BILEARN_CHECK(PCSetType(pc, PCCIRCULANT));
  BILEARN_CHECK(KSPSetInitialGuessNonzero(*ksp, PETSC_TRUE));
}

}  // namespace

void create_hypergradient_ksp(MPI_Comm comm, LowerObjective& objective, KSP* ksp) {
  create_with_defaults(comm, ksp);
  PC pc;
  BILEARN_CHECK(KSPGetPC(*ksp, &pc));
  BILEARN_CHECK(KSPSetOperators(*ksp, objective.hessian(), objective.hessian()));
  BILEARN_CHECK(KSPSetFromOptions(*ksp));
  // The defaults above belong to CG: another type chosen with -hyper_ksp_type keeps its own
  // norm (PETSc 3.18's MINRES has only the preconditioned one) and, unless -hyper_pc_type
  // says otherwise, no preconditioner, as before the circulant PC existed (those types are
  // chosen for indefinite H, where the circulant symbol from the mean curvature can fail).
  if (!has_type(*ksp, KSPCG)) {
    if (!user_set("-ksp_norm_type")) BILEARN_CHECK(KSPSetNormType(*ksp, KSP_NORM_DEFAULT));
    if (!user_set("-pc_type")) BILEARN_CHECK(PCSetType(pc, PCNONE));
  }
  share_hessian_structure(*ksp, objective);
}

void print_hypergradient_ksp_options(MPI_Comm comm) {
  OwnedKSP ksp;
  create_with_defaults(comm, ksp.out());
  BILEARN_CHECK(KSPSetFromOptions(ksp));
}

bool switch_to_minres_if_indefinite(KSP ksp) {
  KSPConvergedReason reason;
  BILEARN_CHECK(KSPGetConvergedReason(ksp, &reason));
  if (reason != KSP_DIVERGED_INDEFINITE_MAT || user_set("-ksp_type") || !has_type(ksp, KSPCG)) return false;
  BILEARN_CHECK(KSPSetType(ksp, KSPMINRES));
  if (!user_set("-ksp_norm_type")) BILEARN_CHECK(KSPSetNormType(ksp, KSP_NORM_DEFAULT));
  // The circulant symbol is built from the mean curvature, which negative lobes of φ'' can
  // cancel: on the Lorentzian test problem MINRES with it did not converge in 10000
  // iterations, without a preconditioner it converges.
  if (!user_set("-pc_type")) {
    PC pc;
    BILEARN_CHECK(KSPGetPC(ksp, &pc));
    BILEARN_CHECK(PCSetType(pc, PCNONE));
  }
  return true;
}

}  // namespace bilearn
