// tv (smoothed total variation) and huber_tv: their options -reg_tv_gamma and -reg_tv_learn_gamma
// are shared by both types; the maths is in gradient_norm.hpp.
#include "bilearn/reg/factories.hpp"
#include "bilearn/reg/gradient_norm.hpp"

namespace bilearn {

std::unique_ptr<RegulariserBase> create_tv(const ImageGrid& grid) {
  return std::make_unique<GradientNormRegulariser>(grid, "tv", GradientPenalty::tv);
}

std::unique_ptr<RegulariserBase> create_huber_tv(const ImageGrid& grid) {
  return std::make_unique<GradientNormRegulariser>(grid, "huber_tv", GradientPenalty::huber);
}

}  // namespace bilearn
