#include "bilearn/problem/noise.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"

namespace bilearn {
namespace {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

constexpr std::uint64_t golden = 0x9e3779b97f4a7c15ULL;

// Exact sums of reals: every term t becomes the integer trunc(t · 2^k), k = 53 − e, where
// max|t| < 2^e. Such an integer has at most 53 bits, terms of the maximum's binade (the
// maximum itself included) are not rounded at all, and sums of up to 2^73 of them are
// exact in 128 bits, so the total does not depend on the order of the terms.
class Quantiser {
 public:
  explicit Quantiser(double max_abs) {
    int e = 0;
    std::frexp(max_abs, &e);  // max_abs = f·2^e, f ∈ [0.5, 1)
    k_ = 53 - e;
    fast_ = k_ >= -1022 && k_ <= 1023;  // 2^k is a normal double: multiply instead of ldexp
    scale_ = fast_ ? std::ldexp(1.0, k_) : 0.0;
  }
  std::int64_t operator()(double t) const noexcept {
    return static_cast<std::int64_t>(fast_ ? t * scale_ : std::ldexp(t, k_));
  }
  double value(int128 total) const noexcept { return std::ldexp(static_cast<double>(total), -k_); }
  double value(uint128 total) const noexcept { return std::ldexp(static_cast<double>(total), -k_); }

 private:
  int k_ = 0;
  bool fast_ = true;
  double scale_ = 1.0;
};

}  // namespace

std::uint64_t mix64(std::uint64_t z) noexcept {
  z += golden;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t counter_hash(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) noexcept {
  const std::uint64_t key = mix64(mix64(seed) ^ (stream * 0xd1b54a32d192ed03ULL + golden));
  return mix64(key ^ mix64(counter));
}

double uniform_from_bits(std::uint64_t bits) noexcept {
  return static_cast<double>((bits >> 11) + 1) * 0x1.0p-53;  // (0, 1]
}

double counter_gaussian(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) noexcept {
  const double u1 = uniform_from_bits(counter_hash(seed, stream, 2 * counter));
  const double u2 = uniform_from_bits(counter_hash(seed, stream, 2 * counter + 1));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * PETSC_PI * u2);
}

std::uint64_t stream_id(StreamPurpose purpose, PetscInt sample) noexcept {
  return static_cast<std::uint64_t>(purpose) + 4 * static_cast<std::uint64_t>(sample);
}

PetscInt CounterRng::integer(PetscInt lo, PetscInt hi) noexcept {
  const std::uint64_t range = static_cast<std::uint64_t>(hi - lo) + 1;
  return lo + static_cast<PetscInt>(next_bits() % range);
}

double reproducible_sum(const PetscScalar* v, PetscInt n) noexcept {
  double max_abs = 0.0;
  bool finite = true;
  for (PetscInt i = 0; i < n; ++i) {
    const double a = std::fabs(v[i]);
    finite &= a <= DBL_MAX;  // false for Inf and NaN
    max_abs = a > max_abs ? a : max_abs;
  }
  if (!finite) {
    double plain = 0.0;
    for (PetscInt i = 0; i < n; ++i) plain += v[i];
    return plain;
  }
  if (max_abs == 0.0) return 0.0;
  const Quantiser q(max_abs);
  int128 total = 0;
  for (PetscInt i = 0; i < n; ++i) total += q(v[i]);
  return q.value(total);
}

PetscReal reproducible_norm(Vec v) {
  PetscInt n = 0;
  BILEARN_CHECK(VecGetLocalSize(v, &n));
  MPI_Comm comm = PetscObjectComm((PetscObject)v);
  ConstVecArray a(v);
  double local_max = 0.0;
  int local_bad = 0;
  for (PetscInt i = 0; i < n; ++i) {
    const double s = a[i] * a[i];
    local_bad |= !(s <= DBL_MAX);
    local_max = s > local_max ? s : local_max;
  }
  double max_sq = 0.0;
  int bad = 0;
  BILEARN_CHECK(MPI_Allreduce(&local_bad, &bad, 1, MPI_INT, MPI_MAX, comm));
  if (bad) return PETSC_INFINITY;
  BILEARN_CHECK(MPI_Allreduce(&local_max, &max_sq, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (max_sq == 0.0) return 0.0;
  const Quantiser q(max_sq);
  uint128 local = 0;
  for (PetscInt i = 0; i < n; ++i) local += static_cast<std::uint64_t>(q(a[i] * a[i]));
  // Exact sum over ranks: limbs of 32, 32 and 64 bits summed as unsigned 64-bit integers
  // (no overflow below 2^32 ranks).
  std::uint64_t limbs[3] = {static_cast<std::uint64_t>(local & 0xffffffffULL),
                            static_cast<std::uint64_t>((local >> 32) & 0xffffffffULL),
                            static_cast<std::uint64_t>(local >> 64)};
  std::uint64_t sums[3] = {0, 0, 0};
  BILEARN_CHECK(MPI_Allreduce(limbs, sums, 3, MPI_UINT64_T, MPI_SUM, comm));
  const uint128 total =
      static_cast<uint128>(sums[0]) + (static_cast<uint128>(sums[1]) << 32) + (static_cast<uint128>(sums[2]) << 64);
  return std::sqrt(q.value(total));
}

PetscReal add_relative_noise(Vec y, const std::vector<PetscInt>& natural, PetscReal sigma, PetscInt seed,
                             PetscInt sample) {
  PetscInt n = 0, m = 0;
  BILEARN_CHECK(VecGetLocalSize(y, &n));
  BILEARN_CHECK(VecGetSize(y, &m));
  if (static_cast<PetscInt>(natural.size()) != n)
    throw std::logic_error("add_relative_noise: natural index list does not match the local size");
  const PetscReal scale = sigma * reproducible_norm(y) / std::sqrt(static_cast<PetscReal>(m));
  if (scale == 0.0) return 0.0;
  const std::uint64_t stream = stream_id(StreamPurpose::noise, sample);
  VecArray a(y);
  for (PetscInt i = 0; i < n; ++i)
    a[i] += scale * counter_gaussian(static_cast<std::uint64_t>(seed), stream,
                                     static_cast<std::uint64_t>(natural[static_cast<size_t>(i)]));
  return scale;
}

std::uint64_t natural_checksum(Vec v, const std::vector<PetscInt>& natural) {
  PetscInt n = 0;
  BILEARN_CHECK(VecGetLocalSize(v, &n));
  if (static_cast<PetscInt>(natural.size()) != n)
    throw std::logic_error("natural_checksum: natural index list does not match the local size");
  ConstVecArray a(v);
  std::uint64_t local = 0, total = 0;
  for (PetscInt i = 0; i < n; ++i) {
    double value = a[i];
    std::uint64_t bits = 0;
    static_assert(sizeof(bits) == sizeof(value), "PetscScalar must be a 64-bit real");
    std::memcpy(&bits, &value, sizeof(bits));
    local += counter_hash(0x62696c6561726eULL, static_cast<std::uint64_t>(natural[static_cast<size_t>(i)]), bits);
  }
  BILEARN_CHECK(MPI_Allreduce(&local, &total, 1, MPI_UINT64_T, MPI_SUM, PetscObjectComm((PetscObject)v)));
  return total;
}

}  // namespace bilearn
