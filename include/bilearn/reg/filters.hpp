// Filter banks for fields of experts: K square filters of odd side k, stored row-major.
// Orientation: filters act by correlation (as PyTorch's conv2d does), see convolution.hpp.
#pragma once
#include <petscsys.h>

#include <string>
#include <vector>

namespace bilearn {

struct FilterBank {
  PetscInt count = 0;  // K
  PetscInt side = 0;   // k (odd)
  // coeffs[f·k² + a·k + b]: filter f, row a (image row offset a − r), column b (offset b − r).
  std::vector<PetscReal> coeffs;
  // Set for separable banks (the DCT banks): coeffs[f·k² + a·k + b] = basis[p_f·k + a] ·
  // basis[q_f·k + b] with p_f = pairs[2f], q_f = pairs[2f + 1]; empty otherwise.
  std::vector<PetscReal> basis;
  std::vector<PetscInt> pairs;

  PetscInt radius() const noexcept { return side / 2; }
  PetscInt taps() const noexcept { return side * side; }
};

// The zero-mean 2-D DCT-II basis of side k: the k² − 1 orthonormal filters
// u_p(a) u_q(b), (p, q) ≠ (0, 0), in row-major (p, q) order, with
// u_p(a) = α_p cos(π (2a + 1) p / (2k)), α_0 = √(1/k), α_p = √(2/k).
FilterBank dct_filter_bank(PetscInt side);

// Reads a text filter file on rank 0 and broadcasts it (collective; errors are InputError
// on every rank). Format: '#' starts a comment; then "K k" (number of filters, odd side
// k ≤ max_side), then K·k² numbers, filter after filter, each row-major.
FilterBank read_filter_file(MPI_Comm comm, const std::string& path, PetscInt max_side);

}  // namespace bilearn
