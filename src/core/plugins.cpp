#include "bilearn/core/plugins.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"
#include "bilearn/krylov/pc_circulant.h"

namespace bilearn {

void register_plugins() {
  static bool done = false;
  if (done) return;
  done = true;
  BILEARN_CHECK(KSPRegister(KSPRMINRES, KSPCreate_RMINRES));
  BILEARN_CHECK(KSPRegister(KSPRCG, KSPCreate_RCG));
  BILEARN_CHECK(PCRegister(PCCIRCULANT, PCCreate_Circulant));
}

}  // namespace bilearn
