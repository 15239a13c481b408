// Reproducible random numbers for mini-batches: SplitMix64 (Steele, Lea, Flood 2014), whose
// whole state is one 64-bit integer (trivial to checkpoint and identical on every platform).
#pragma once
#include <petscsys.h>

#include <cstdint>
#include <vector>

namespace bilearn {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed = 0) : state_(seed) {}
  std::uint64_t next();
  // Uniform integer in [0, n) by rejection (no modulo bias). n > 0.
  std::uint64_t below(std::uint64_t n);
  std::uint64_t state() const noexcept { return state_; }
  void set_state(std::uint64_t s) noexcept { state_ = s; }

 private:
  std::uint64_t state_;
};

// b distinct sample indices out of 0..S−1 (partial Fisher–Yates), sorted ascending.
std::vector<PetscInt> draw_batch(SplitMix64& rng, PetscInt num_samples, PetscInt batch_size);

}  // namespace bilearn
