// Mean convolution kernels of an operator on a 2-D DMDA, measured with impulses
// (docs/algorithms.md §4.5):
//   - a long-range kernel (AᵀA: ~1/r) from the full impulse responses at a few pixels, placed
//     on the periodic grid at their offsets and averaged where they overlap;
//   - a short-range kernel (a regulariser Hessian, radius r) from one product with a comb of
//     impulses 2r+1 apart, averaged over the teeth (or exactly, over every pixel as a tooth).
#pragma once
#include <petscmat.h>

#include <vector>

#include "krylov/circulant/fourier_grid.hpp"

namespace bilearn::krylov {

struct Pixel {
  PetscInt row, col;
};

// Kernel K on the local rows of grid's real layout (row-major, grid.m1() columns each, rows
// [first_row, first_row + count)): K[(i − r0) mod M0, (j − c0) mod M1] = (A e_(r0,c0))(i, j),
// averaged over the impulses that cover an offset. `products` counts the products with A.
struct LongKernel {
  PetscInt first_row = 0;
  std::vector<PetscReal> values;
  PetscReal at(PetscInt row, PetscInt col, PetscInt m1) const {
    return values[static_cast<size_t>((row - first_row) * m1 + col)];
  }
};
LongKernel impulse_response_kernel(Mat a, DM dm, const FourierGrid& grid, const std::vector<Pixel>& impulses,
                                   PetscInt first_row, PetscInt row_count, PetscInt& products);

// Mean kernel of a short-range operator: k[(d0 + r)(2r + 1) + d1 + r] for |d0|, |d1| ≤ r, on
// every rank. exact: (2r+1)² comb products, every pixel a tooth once; else one product.
std::vector<PetscReal> comb_kernel(Mat a, DM dm, bool periodic, PetscInt radius, bool exact, PetscInt& products);

}  // namespace bilearn::krylov
