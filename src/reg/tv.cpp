// tv (smoothed total variation) and huber_tv: builders reading -reg_tv_gamma and
// -reg_tv_learn_gamma (shared by both types); the maths is in gradient_norm.hpp.
#include "bilearn/reg/factories.hpp"
#include "bilearn/reg/gradient_norm.hpp"

namespace bilearn {
namespace {
std::unique_ptr<RegulariserBase> make_gradient_norm(const ImageGrid& grid, OptionsBlock& options, const char* name,
                                                    GradientPenalty penalty) {
  const PetscReal gamma =
      options.real("-tv_gamma",
                   "smoothing γ of tv / huber_tv in image units (images in [0, 1]); with -reg_tv_learn_gamma the "
                   "default of θ's log10 gamma",
                   1e-2, 1e-12, 1e6);
  const bool learn = options.flag("-tv_learn_gamma", "learn log10 γ as θ's second entry", false);
  return std::make_unique<GradientNormRegulariser>(grid, name, penalty, -2.0, gamma, learn);
}
}  // namespace

std::unique_ptr<RegulariserBase> make_tv(const ImageGrid& grid, OptionsBlock& options) {
  return make_gradient_norm(grid, options, "tv", GradientPenalty::tv);
}

std::unique_ptr<RegulariserBase> make_huber_tv(const ImageGrid& grid, OptionsBlock& options) {
  return make_gradient_norm(grid, options, "huber_tv", GradientPenalty::huber);
}

}  // namespace bilearn
