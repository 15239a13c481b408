// Exact storage of doubles in JSON: hex-float strings ("%a"), so that checkpointed state
// (θ, gradients, moments, curvature pairs) reads back bit for bit, NaN and Inf included.
#pragma once
#include <petscsys.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bilearn {

std::string hex_real(PetscReal v);
// Throws InputError(what + ...) if s is not a number.
PetscReal parse_hex_real(const std::string& s, const std::string& what);

nlohmann::json hex_reals(const std::vector<PetscReal>& v);
std::vector<PetscReal> parse_hex_reals(const nlohmann::json& j, const std::string& what);

// 64-bit integers as decimal strings (JSON numbers lose precision in some readers).
std::string u64_string(std::uint64_t v);
std::uint64_t parse_u64(const nlohmann::json& j, const std::string& what);

// 64-bit FNV-1a style checksum of a byte range, continued from h (start with checksum_seed).
constexpr std::uint64_t checksum_seed = 1469598103934665603ull;
std::uint64_t checksum(const void* data, std::size_t size, std::uint64_t h = checksum_seed);
std::string hex_u64(std::uint64_t v);

}  // namespace bilearn
