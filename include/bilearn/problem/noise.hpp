// Rank-count-invariant randomness and arithmetic for making data sets.
//
// Random numbers come from a counter-based generator: every number is a hash of
// (seed, stream, counter), so a value depends only on *which* number it is, never on which
// rank computes it or in what order. Phantoms draw their shapes from a serial stream
// (CounterRng, identical on every rank); noise draws one Gaussian per data entry, keyed by
// the entry's natural index, so no rank needs any other rank's part of the data.
//
// Reductions used for data (norms, row sums) are computed exactly in integer arithmetic
// after scaling to a common exponent (see reproducible_sum), so that their result is the
// same bits on 1, 2 or 3 ranks and data files are identical for any rank count.
#pragma once
#include <petscvec.h>

#include <cstdint>
#include <vector>

namespace bilearn {

// splitmix64 finaliser: a bijective 64-bit mixing function.
std::uint64_t mix64(std::uint64_t z) noexcept;

// Hash of (seed, stream, counter); independent streams for distinct (seed, stream).
std::uint64_t counter_hash(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) noexcept;

// Uniform number in (0, 1] with 53 random bits, from a 64-bit hash.
double uniform_from_bits(std::uint64_t bits) noexcept;

// Standard normal number `counter` of stream (seed, stream): Box–Muller on the two
// uniforms of counters 2·counter and 2·counter+1, z = √(−2 ln u₁) cos(2π u₂).
double counter_gaussian(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) noexcept;

// Purposes of random streams: a stream id is purpose + 4·sample, so phantoms and noise of
// the same sample never share numbers.
enum class StreamPurpose : std::uint64_t { phantom = 0, noise = 1 };
std::uint64_t stream_id(StreamPurpose purpose, PetscInt sample) noexcept;

// A serial generator over one stream: the k-th call returns number k of (seed, stream).
class CounterRng {
 public:
  CounterRng(std::uint64_t seed, std::uint64_t stream) noexcept : seed_(seed), stream_(stream) {}
  std::uint64_t next_bits() noexcept { return counter_hash(seed_, stream_, counter_++); }
  double uniform() noexcept { return uniform_from_bits(next_bits()); }  // (0, 1]
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  PetscInt integer(PetscInt lo, PetscInt hi) noexcept;  // uniform in [lo, hi]

 private:
  std::uint64_t seed_, stream_, counter_ = 0;
};

// Σ v[i] over a local array, exactly rounded from an exact integer sum of the terms scaled
// to the exponent of max|v[i]| (each term truncated to the ulp of that maximum): the result
// does not depend on the order of the terms. Non-finite terms give the plain sum.
double reproducible_sum(const PetscScalar* v, PetscInt n) noexcept;

// ‖v‖₂ computed as above over all ranks (exact integer sum of squares quantised to the
// global maximum): the same bits for any rank count and layout. Collective.
PetscReal reproducible_norm(Vec v);

// Adds Gaussian noise e with e_i = σ‖y‖/√m · g(seed, noise stream of sample, natural[i]),
// m = size of y, so that ‖e‖ ≈ σ‖y‖ (‖y‖ from reproducible_norm). natural[i] is the natural
// index of the i-th local entry of y. σ ≥ 0. Returns the scale σ‖y‖/√m. Collective.
PetscReal add_relative_noise(Vec y, const std::vector<PetscInt>& natural, PetscReal sigma, PetscInt seed,
                             PetscInt sample);

// Order-independent checksum of a distributed vector: Σ_i hash(natural[i], bits of v_i)
// mod 2^64 over all ranks; equal for equal natural-order contents on any rank count.
// Collective.
std::uint64_t natural_checksum(Vec v, const std::vector<PetscInt>& natural);

}  // namespace bilearn
