#include "bilearn/problem/noise.hpp"

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

// Quantum exponent: every term t is replaced by the integer round(t · 2^(53−e)) where
// max|t| < 2^e: at most 2^53 in magnitude, exact for terms of the maximum's binade (the
// maximum itself is not rounded), and sums of up to 2^73 of them are exact in 128 bits.
int scale_exponent(double max_abs) {
  int e = 0;
  std::frexp(max_abs, &e);  // max_abs = f·2^e, f ∈ [0.5, 1)
  return e;
}

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
  double max_abs = 0.0, plain = 0.0;
  for (PetscInt i = 0; i < n; ++i) {
    max_abs = std::fmax(max_abs, std::fabs(v[i]));
    plain += v[i];
  }
  if (!std::isfinite(plain) || !std::isfinite(max_abs)) return plain;
  if (max_abs == 0.0) return 0.0;
  const int e = scale_exponent(max_abs);
  int128 total = 0;
  for (PetscInt i = 0; i < n; ++i) total += std::llround(std::ldexp(v[i], 53 - e));
  return std::ldexp(static_cast<double>(total), e - 53);
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
    if (!std::isfinite(s)) local_bad = 1;
    local_max = std::fmax(local_max, s);
  }
  double max_sq = 0.0;
  int bad = 0;
  BILEARN_CHECK(MPI_Allreduce(&local_bad, &bad, 1, MPI_INT, MPI_MAX, comm));
  if (bad) return PETSC_INFINITY;
  BILEARN_CHECK(MPI_Allreduce(&local_max, &max_sq, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (max_sq == 0.0) return 0.0;
  const int e = scale_exponent(max_sq);
  uint128 local = 0;
  for (PetscInt i = 0; i < n; ++i) local += static_cast<std::uint64_t>(std::llround(std::ldexp(a[i] * a[i], 53 - e)));
  // Exact sum over ranks: limbs of 32, 32 and 64 bits summed as unsigned 64-bit integers
  // (no overflow below 2^32 ranks).
  std::uint64_t limbs[3] = {static_cast<std::uint64_t>(local & 0xffffffffULL),
                            static_cast<std::uint64_t>((local >> 32) & 0xffffffffULL),
                            static_cast<std::uint64_t>(local >> 64)};
  std::uint64_t sums[3] = {0, 0, 0};
  BILEARN_CHECK(MPI_Allreduce(limbs, sums, 3, MPI_UINT64_T, MPI_SUM, comm));
  const uint128 total =
      static_cast<uint128>(sums[0]) + (static_cast<uint128>(sums[1]) << 32) + (static_cast<uint128>(sums[2]) << 64);
  return std::sqrt(std::ldexp(static_cast<double>(total), e - 53));
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
