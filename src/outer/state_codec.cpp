#include "bilearn/outer/state_codec.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bilearn/core/error.hpp"

namespace bilearn {

std::string hex_real(PetscReal v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%a", static_cast<double>(v));
  return buf;
}

PetscReal parse_hex_real(const std::string& s, const std::string& what) {
  const char* begin = s.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  require(end != begin && *end == '\0', what + ": '" + s + "' is not a number");
  return static_cast<PetscReal>(v);
}

nlohmann::json hex_reals(const std::vector<PetscReal>& v) {
  nlohmann::json j = nlohmann::json::array();
  for (PetscReal x : v) j.push_back(hex_real(x));
  return j;
}

std::vector<PetscReal> parse_hex_reals(const nlohmann::json& j, const std::string& what) {
  require(j.is_array(), what + ": expected an array");
  std::vector<PetscReal> v;
  v.reserve(j.size());
  for (const auto& x : j) {
    require(x.is_string(), what + ": expected hex-float strings");
    v.push_back(parse_hex_real(x.get<std::string>(), what));
  }
  return v;
}

std::string u64_string(std::uint64_t v) {
  return std::to_string(v);
}

std::uint64_t parse_u64(const nlohmann::json& j, const std::string& what) {
  require(j.is_string(), what + ": expected a decimal string");
  const std::string s = j.get<std::string>();
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  require(!s.empty() && *end == '\0' && errno == 0, what + ": '" + s + "' is not an unsigned integer");
  return static_cast<std::uint64_t>(v);
}

std::uint64_t checksum(const void* data, std::size_t size, std::uint64_t h) {
  // FNV-1a over 8-byte words (then the tail bytes): fast enough for recycle spaces of GBs,
  // and any flipped or truncated byte changes it with overwhelming probability.
  constexpr std::uint64_t prime = 1099511628211ull;
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * prime;
    h ^= h >> 29;
  }
  for (; i < size; ++i) h = (h ^ p[i]) * prime;
  return h;
}

std::string hex_u64(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace bilearn
