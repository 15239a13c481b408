#include "bilearn/outer/rng.hpp"

#include <algorithm>
#include <numeric>

namespace bilearn {

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t SplitMix64::below(std::uint64_t n) {
  // Reject the top partial block of 2^64 so every residue is equally likely.
  const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
  std::uint64_t x;
  do x = next();
  while (x >= limit);
  return x % n;
}

std::vector<PetscInt> draw_batch(SplitMix64& rng, PetscInt num_samples, PetscInt batch_size) {
  std::vector<PetscInt> all(static_cast<size_t>(num_samples));
  std::iota(all.begin(), all.end(), PetscInt(0));
  const PetscInt b = std::min(batch_size, num_samples);
  for (PetscInt i = 0; i < b; ++i) {
    const auto j = i + static_cast<PetscInt>(rng.below(static_cast<std::uint64_t>(num_samples - i)));
    std::swap(all[i], all[j]);
  }
  all.resize(static_cast<size_t>(b));
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace bilearn
