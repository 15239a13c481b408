// The regulariser family: one create function per type (its file), registered by name in
// src/reg/create_regulariser.cpp. A type reads its own options (-reg_<type>_*) in
// set_from_options and fixes θ's layout in set_up (reg_base.hpp).
#pragma once
#include <memory>

#include "bilearn/core/registry.hpp"
#include "bilearn/reg/reg_base.hpp"

namespace bilearn {

using RegulariserRegistry = Registry<std::unique_ptr<RegulariserBase>, const ImageGrid&>;
// -reg_type lists its names; tests may add members.
RegulariserRegistry& regulariser_registry();

std::unique_ptr<RegulariserBase> create_tikhonov(const ImageGrid& grid);
std::unique_ptr<RegulariserBase> create_tv(const ImageGrid& grid);
std::unique_ptr<RegulariserBase> create_huber_tv(const ImageGrid& grid);
std::unique_ptr<RegulariserBase> create_foe(const ImageGrid& grid);

}  // namespace bilearn
