#include "krylov/circulant/impulse_kernels.hpp"

#include <petscdmda.h>

#include <cmath>

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {
namespace {

struct Layout {
  PetscInt nx, ny, xs, ys, xm, ym;
};

Layout layout_of(DM dm) {
  Layout l{};
  BILEARN_CHECK(DMDAGetInfo(dm, nullptr, &l.nx, &l.ny, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                            nullptr, nullptr, nullptr));
  BILEARN_CHECK(DMDAGetCorners(dm, &l.xs, &l.ys, nullptr, &l.xm, &l.ym, nullptr));
  return l;
}

// Natural-order (row-major) copy of a DMDA global vector on every rank.
std::vector<PetscReal> natural_on_all(DM dm, Vec v) {
  OwnedVec natural, all;
  BILEARN_CHECK(DMDACreateNaturalVector(dm, natural.out()));
  BILEARN_CHECK(DMDAGlobalToNaturalBegin(dm, v, INSERT_VALUES, natural));
  BILEARN_CHECK(DMDAGlobalToNaturalEnd(dm, v, INSERT_VALUES, natural));
  OwnedScatter to_all;
  BILEARN_CHECK(VecScatterCreateToAll(natural, to_all.out(), all.out()));
  BILEARN_CHECK(VecScatterBegin(to_all, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  BILEARN_CHECK(VecScatterEnd(to_all, natural, all, INSERT_VALUES, SCATTER_FORWARD));
  ConstVecArray a(all);
  PetscInt n;
  BILEARN_CHECK(VecGetLocalSize(all, &n));
  return std::vector<PetscReal>(a.data(), a.data() + n);
}

// Teeth along one axis of length n at base + a·spacing, a = 0 … count−1.
struct Teeth {
  PetscInt base, spacing, count, n;
  bool periodic;
  // Offset of coordinate q from its tooth, if within radius r of one (else false).
  bool offset(PetscInt q, PetscInt r, PetscInt& d) const {
    const PetscInt shifts[3] = {0, n, -n};
    for (int k = 0; k < (periodic ? 3 : 1); ++k) {
      const PetscInt p = q + shifts[k] - base + r;
      if (p < 0) continue;
      const PetscInt a = p / spacing;
      if (a >= count) continue;
      d = q + shifts[k] - (base + a * spacing);
      if (std::abs(d) <= r) return true;
    }
    return false;
  }
};

// Teeth of one comb: interior teeth (responses not cut by the boundary) unless every pixel
// is to be a tooth once over all shifts (exact), then base = shift.
Teeth teeth(PetscInt n, PetscInt r, bool periodic, bool exact, PetscInt shift) {
  const PetscInt s = 2 * r + 1;
  Teeth t{0, s, 0, n, periodic};
  if (exact) {
    t.base = shift;
    t.count = shift < n ? (periodic ? n / s : (n - 1 - shift) / s + 1) : 0;
    if (periodic && shift >= s * t.count) t.count = 0;
  } else if (periodic) {
    t.count = n / s;
  } else {
    t.base = r;
    t.count = n - 1 - 2 * r >= 0 ? (n - 1 - 2 * r) / s + 1 : 0;
  }
  if (!exact && t.count == 0) {  // image smaller than one stencil: one tooth in the middle
    t.base = n / 2;
    t.count = 1;
  }
  return t;
}

}  // namespace

LongKernel impulse_response_kernel(Mat a, DM dm, const FourierGrid& grid, const std::vector<Pixel>& impulses,
                                   PetscInt first_row, PetscInt row_count, PetscInt& products) {
  const Layout l = layout_of(dm);
  const PetscInt m0 = grid.m0(), m1 = grid.m1();
  LongKernel k;
  k.first_row = first_row;
  k.values.assign(static_cast<size_t>(row_count * m1), 0.0);
  std::vector<PetscInt> count(k.values.size(), 0);
  OwnedVec e, h;
  BILEARN_CHECK(DMCreateGlobalVector(dm, e.out()));
  BILEARN_CHECK(VecDuplicate(e, h.out()));
  AO ao;
  BILEARN_CHECK(DMDAGetAO(dm, &ao));
  for (const Pixel& p : impulses) {
    PetscInt index = p.row * l.nx + p.col;
    BILEARN_CHECK(AOApplicationToPetsc(ao, 1, &index));
    BILEARN_CHECK(VecSet(e, 0.0));
    PetscInt lo, hi;
    BILEARN_CHECK(VecGetOwnershipRange(e, &lo, &hi));
    if (index >= lo && index < hi) BILEARN_CHECK(VecSetValue(e, index, 1.0, INSERT_VALUES));
    BILEARN_CHECK(VecAssemblyBegin(e));
    BILEARN_CHECK(VecAssemblyEnd(e));
    BILEARN_CHECK(MatMult(a, e, h));
    ++products;
    const std::vector<PetscReal> response = natural_on_all(dm, h);
    for (PetscInt r = 0; r < row_count; ++r) {
      const PetscInt i = (first_row + r + p.row) % m0;
      if (i >= l.ny) continue;
      for (PetscInt c = 0; c < m1; ++c) {
        const PetscInt j = (c + p.col) % m1;
        if (j >= l.nx) continue;
        const size_t at = static_cast<size_t>(r * m1 + c);
        k.values[at] += response[static_cast<size_t>(i * l.nx + j)];
        ++count[at];
      }
    }
  }
  for (size_t at = 0; at < k.values.size(); ++at)
    if (count[at] > 1) k.values[at] /= static_cast<PetscReal>(count[at]);
  return k;
}

std::vector<PetscReal> comb_kernel(Mat a, DM dm, bool periodic, PetscInt radius, bool exact, PetscInt& products) {
  const Layout l = layout_of(dm);
  const PetscInt s = 2 * radius + 1;
  std::vector<PetscReal> kernel(static_cast<size_t>(s * s), 0.0);
  PetscReal teeth_total = 0;
  OwnedVec comb, response;
  BILEARN_CHECK(DMCreateGlobalVector(dm, comb.out()));
  BILEARN_CHECK(VecDuplicate(comb, response.out()));
  const PetscInt shifts = exact ? s : 1;
  for (PetscInt u = 0; u < shifts; ++u) {
    const Teeth rows = teeth(l.ny, radius, periodic, exact, u);
    for (PetscInt v = 0; v < shifts; ++v) {
      const Teeth cols = teeth(l.nx, radius, periodic, exact, v);
      if (rows.count == 0 || cols.count == 0) continue;
      teeth_total += static_cast<PetscReal>(rows.count * cols.count);
      {
        VecArray c(comb);
        for (PetscInt y = 0; y < l.ym; ++y)
          for (PetscInt x = 0; x < l.xm; ++x) {
            PetscInt d0, d1;
            const bool tooth = rows.offset(l.ys + y, 0, d0) && cols.offset(l.xs + x, 0, d1);
            c[y * l.xm + x] = tooth ? 1.0 : 0.0;
          }
      }
      BILEARN_CHECK(MatMult(a, comb, response));
      ++products;
      ConstVecArray h(response);
      for (PetscInt y = 0; y < l.ym; ++y)
        for (PetscInt x = 0; x < l.xm; ++x) {
          PetscInt d0, d1;
          if (rows.offset(l.ys + y, radius, d0) && cols.offset(l.xs + x, radius, d1))
            kernel[static_cast<size_t>((d0 + radius) * s + d1 + radius)] += h[y * l.xm + x];
        }
    }
  }
  std::vector<PetscReal> total(kernel.size());
  MPI_Allreduce(kernel.data(), total.data(), static_cast<int>(kernel.size()), MPIU_REAL, MPIU_SUM,
                PetscObjectComm((PetscObject)dm));
  for (PetscReal& t : total) t /= teeth_total;
  return total;
}

}  // namespace bilearn::krylov
