#include "bilearn/core/plugins.hpp"

#include "bilearn/core/error.hpp"
#include "bilearn/krylov/ksp_recycle.hpp"

namespace bilearn {

void register_plugins() {
  static bool done = false;
  if (done) return;
  done = true;
  BILEARN_CHECK(KSPRegister(KSPRMINRES, KSPCreate_RMINRES));
  BILEARN_CHECK(KSPRegister(KSPRCG, KSPCreate_RCG));
}

}  // namespace bilearn
