// One builder per regulariser type: each reads its own options (-reg_<type>_*) from the
// open block; create_regulariser (src/reg/create_regulariser.cpp) reads -reg_type and
// -reg_theta around them. Adding a type = one file with its builder + one line there.
#pragma once
#include <memory>

#include "bilearn/core/options.hpp"
#include "bilearn/reg/reg_base.hpp"

namespace bilearn {

std::unique_ptr<RegulariserBase> make_tikhonov(const ImageGrid& grid, OptionsBlock& options);
std::unique_ptr<RegulariserBase> make_tv(const ImageGrid& grid, OptionsBlock& options);
std::unique_ptr<RegulariserBase> make_huber_tv(const ImageGrid& grid, OptionsBlock& options);
std::unique_ptr<RegulariserBase> make_foe(const ImageGrid& grid, OptionsBlock& options);

}  // namespace bilearn
