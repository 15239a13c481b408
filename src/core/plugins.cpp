#include "bilearn/core/plugins.hpp"

namespace bilearn {

void register_plugins() {
  static bool done = false;
  if (done) return;
  done = true;
}

}  // namespace bilearn
