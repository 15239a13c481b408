#include "bilearn/core/error.hpp"
#include "bilearn/outer/optimizer.hpp"

namespace bilearn {

std::unique_ptr<Optimizer> create_optimizer(const OuterOptions& opts, PetscInt num_samples) {
  if (opts.type == "gd") {
    require(opts.ls == "armijo" || opts.ls == "inexact" || opts.ls == "none",
            "unknown value '" + opts.ls + "' for -outer_ls (choose one of armijo, inexact, none)");
    return create_gradient_descent(opts);
  }
  if (opts.type == "adam") return create_adam(opts, num_samples);
  if (opts.type == "lbfgs") return create_lbfgs(opts);
  if (opts.type == "fuse") return create_fuse(opts, num_samples);
  throw InputError("unknown value '" + opts.type + "' for -outer_type (choose one of gd, adam, lbfgs, fuse)");
}

}  // namespace bilearn
