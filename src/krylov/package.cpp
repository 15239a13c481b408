#include "bilearn/krylov/package.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/krylov/ksp_lockstep_cg.h"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"

namespace bilearn::krylov {

void register_package() {
  static bool done = false;
  if (done) return;
  log::register_all();  // the events the KSP types record (Krylov solve, recycle update, selector)
  BILEARN_CHECK(KSPRegister(KSPRMINRES, KSPCreate_RMINRES));
  BILEARN_CHECK(KSPRegister(KSPRCG, KSPCreate_RCG));
  BILEARN_CHECK(KSPRegister(KSPLOCKSTEPCG, KSPCreate_LockstepCG));
  BILEARN_CHECK(PCRegister(PCCIRCULANT, PCCreate_Circulant));
  done = true;
}

}  // namespace bilearn::krylov
