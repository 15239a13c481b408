// The regulariser registry and create_regulariser: reads -reg_type, creates the type by name,
// lets it read its options, sets it up, reads -reg_theta (checked against the type's θ
// layout, which -help prints) and views it with -reg_view.
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/reg/factories.hpp"

namespace bilearn {

RegulariserRegistry& regulariser_registry() {
  static RegulariserRegistry registry = [] {
    RegulariserRegistry r("regulariser");
    r.add("tikhonov", create_tikhonov);
    r.add("tv", create_tv);
    r.add("huber_tv", create_huber_tv);
    r.add("foe", create_foe);
    return r;
  }();
  return registry;
}

std::unique_ptr<Regulariser> create_regulariser(const ImageGrid& grid, bool view) {
  std::unique_ptr<RegulariserBase> reg;
  {
    OptionsBlock options(grid.comm(), "reg_", "Regulariser R_θ (docs/algorithms.md §1)");
    const std::string type = options.choice(
        "-type",
        "regulariser; θ: tikhonov [log10 w], tv/huber_tv [log10 w(, log10 gamma)], foe [log10 w_1..w_K(, filters)]",
        regulariser_registry().names(), "tv");
    reg = regulariser_registry().create(type, grid);
    reg->set_from_options(options);
    reg->set_up();
    const std::string help = "θ of " + type + ": " + reg->theta_summary();
    std::vector<PetscReal> theta =
        reg->expand_theta(options.reals("-theta", help.c_str(), reg->initial_theta(), 1 << 16));
    require(
        static_cast<PetscInt>(theta.size()) == reg->num_params(),
        options.full_name("-theta") + " has " + std::to_string(theta.size()) + " values, " + reg->theta_requirement());
    reg->set_initial_theta(theta);
    options.view_option("-view", "print the configured regulariser");
  }
  if (view) view_from_options("reg_", "-view", [&](PetscViewer viewer) { reg->view(viewer); });
  return reg;
}

}  // namespace bilearn
