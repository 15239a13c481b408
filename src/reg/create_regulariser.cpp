// create_regulariser: reads -reg_type, the type's options and -reg_theta (checked against
// the type's θ layout, which -help prints).
#include <map>

#include "bilearn/core/error.hpp"
#include "bilearn/reg/factories.hpp"

namespace bilearn {

std::unique_ptr<Regulariser> create_regulariser(const ImageGrid& grid) {
  using Builder = std::unique_ptr<RegulariserBase> (*)(const ImageGrid&, OptionsBlock&);
  static const std::map<std::string, Builder> builders = {
      {"tikhonov", make_tikhonov}, {"tv", make_tv}, {"huber_tv", make_huber_tv}, {"foe", make_foe}};
  OptionsBlock options(grid.comm(), "reg_", "Regulariser R_θ (ALGORITHMS.md §1)");
  const std::string type = options.choice(
      "-type",
      "regulariser; θ: tikhonov [log10 w], tv/huber_tv [log10 w(, log10 gamma)], foe [log10 w_1..w_K(, filters)]",
      {"tikhonov", "tv", "huber_tv", "foe"}, "tv");
  std::unique_ptr<RegulariserBase> reg = builders.at(type)(grid, options);
  const std::string help = "θ of " + type + ": " + reg->theta_summary();
  std::vector<PetscReal> theta =
      reg->expand_theta(options.reals("-theta", help.c_str(), reg->initial_theta(), 1 << 16));
  require(
      static_cast<PetscInt>(theta.size()) == reg->num_params(),
      options.full_name("-theta") + " has " + std::to_string(theta.size()) + " values, " + reg->theta_requirement());
  reg->set_initial_theta(theta);
  return reg;
}

}  // namespace bilearn
