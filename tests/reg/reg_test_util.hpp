// Helpers shared by the regulariser tests: scoped options, deterministic natural-order test
// images (identical on every rank), and serial reference computations on natural images.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/image_grid.hpp"
#include "test_support.hpp"

namespace regtest {
using namespace bilearn;
using OptionList = std::vector<std::pair<std::string, std::string>>;

using bilearn_test::ScopedOptions;

// A smooth phantom-like image in [0, 1]: soft-edged ellipses on a smooth background.
inline std::vector<double> phantom(PetscInt n) {
  std::vector<double> x(static_cast<size_t>(n * n));
  struct Ellipse {
    double cx, cy, ax, ay, amp;
  };
  const Ellipse es[] = {{0.0, 0.0, 0.75, 0.6, 0.45}, {-0.25, 0.1, 0.2, 0.3, 0.3}, {0.3, -0.2, 0.25, 0.15, -0.25}};
  const double width = 1.5 * 2.0 / n;  // edge width about 1.5 pixels
  for (PetscInt r = 0; r < n; ++r)
    for (PetscInt c = 0; c < n; ++c) {
      const double u = (c + 0.5) / n * 2 - 1, v = (r + 0.5) / n * 2 - 1;
      double val = 0.2 + 0.05 * std::sin(3 * u + 1) * std::cos(2 * v);
      for (const auto& e : es) {
        const double rho = std::sqrt(std::pow((u - e.cx) / e.ax, 2) + std::pow((v - e.cy) / e.ay, 2));
        val += e.amp / (1 + std::exp(-(1 - rho) * std::min(e.ax, e.ay) / width));
      }
      x[static_cast<size_t>(r * n + c)] = val;
    }
  return x;
}

inline std::vector<double> uniform(size_t count, unsigned seed, double lo = -1, double hi = 1) {
  std::mt19937_64 gen(seed);
  std::vector<double> v(count);
  for (auto& e : v) e = lo + (hi - lo) * (static_cast<double>(gen() >> 11) * 0x1.0p-53);
  return v;
}

inline OwnedVec from_natural(const ImageGrid& grid, const std::vector<double>& natural) {
  OwnedVec v = grid.create_vec();
  grid.set_from_natural(natural, v);
  return v;
}

inline double dot(Vec a, Vec b) {
  PetscScalar d = 0;
  BILEARN_CHECK(VecDot(a, b, &d));
  return d;
}

inline double norm(Vec a) {
  PetscReal d = 0;
  BILEARN_CHECK(VecNorm(a, NORM_2, &d));
  return d;
}

// Valid correlation of a natural n×n image with one k×k filter: (n−k+1)² outputs, row-major,
// output (i, j) ↔ image pixel (i + r, j + r).
inline std::vector<double> correlate_valid(const std::vector<double>& x, PetscInt n, const double* c, PetscInt k) {
  const PetscInt m = n - k + 1;
  std::vector<double> out(static_cast<size_t>(m * m), 0.0);
  for (PetscInt j = 0; j < m; ++j)
    for (PetscInt i = 0; i < m; ++i) {
      double s = 0;
      for (PetscInt a = 0; a < k; ++a)
        for (PetscInt b = 0; b < k; ++b) s += c[a * k + b] * x[static_cast<size_t>((j + a) * n + i + b)];
      out[static_cast<size_t>(j * m + i)] = s;
    }
  return out;
}

// ‖(∇x)_i‖ with forward differences, Neumann (zero difference in the last column/row).
inline std::vector<double> gradient_norms(const std::vector<double>& x, PetscInt n) {
  std::vector<double> t(x.size());
  for (PetscInt r = 0; r < n; ++r)
    for (PetscInt c = 0; c < n; ++c) {
      const size_t p = static_cast<size_t>(r * n + c);
      const double g0 = c < n - 1 ? x[p + 1] - x[p] : 0, g1 = r < n - 1 ? x[p + static_cast<size_t>(n)] - x[p] : 0;
      t[p] = std::sqrt(g0 * g0 + g1 * g1);
    }
  return t;
}

// A γ in the widest gap between the values |v| (searched between the 25 % and 75 % quantiles,
// so both sides of the kink are used); margin = half the gap.
inline double gamma_between(std::vector<double> values, double& margin) {
  for (auto& v : values) v = std::fabs(v);
  std::sort(values.begin(), values.end());
  const size_t lo = values.size() / 4, hi = 3 * values.size() / 4;
  size_t best = lo;
  for (size_t i = lo; i < hi; ++i)
    if (values[i + 1] - values[i] > values[best + 1] - values[best]) best = i;
  margin = 0.5 * (values[best + 1] - values[best]);
  return 0.5 * (values[best] + values[best + 1]);
}

}  // namespace regtest
