// The optimiser registry: one add() line per optimiser (its file defines the create function).
#include "bilearn/core/error.hpp"
#include "bilearn/outer/optimizer.hpp"

namespace bilearn {

void Optimizer::view(PetscViewer viewer) const {
  BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "Outer optimiser: %s\n", name().c_str()));
}

OptimizerRegistry& optimizer_registry() {
  static OptimizerRegistry registry = [] {
    OptimizerRegistry r("outer optimiser");
    r.add("gd", [](const OuterOptions& opts, PetscInt) {
      require(opts.ls == "armijo" || opts.ls == "inexact" || opts.ls == "none",
              "unknown value '" + opts.ls + "' for -outer_ls (choose one of armijo, inexact, none)");
      return create_gradient_descent(opts);
    });
    r.add("adam", create_adam);
    r.add("lbfgs", [](const OuterOptions& opts, PetscInt) { return create_lbfgs(opts); });
    r.add("fuse", create_fuse);
    return r;
  }();
  return registry;
}

std::unique_ptr<Optimizer> create_optimizer(const OuterOptions& opts, PetscInt num_samples) {
  const OptimizerRegistry& registry = optimizer_registry();
  if (!registry.has(opts.type))
    throw InputError("unknown value '" + opts.type + "' for -outer_type (choose one of " + registry.list() + ")");
  return registry.create(opts.type, opts, num_samples);
}

}  // namespace bilearn
