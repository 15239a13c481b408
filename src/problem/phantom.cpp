#include "bilearn/problem/phantom.hpp"

#include <cmath>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/problem/noise.hpp"

namespace bilearn {
namespace {

PhantomShape ellipse(double value, double a, double b, double cx, double cy, double phi_radians) {
  PhantomShape s;
  s.value = value;
  s.a = a;
  s.b = b;
  s.cx = cx;
  s.cy = cy;
  s.cos_phi = std::cos(phi_radians);
  s.sin_phi = std::sin(phi_radians);
  return s;
}

PhantomShape rectangle(double value, double half_w, double half_h, double cx, double cy) {
  PhantomShape s;
  s.rectangle = true;
  s.value = value;
  s.a = half_w;
  s.b = half_h;
  s.cx = cx;
  s.cy = cy;
  return s;
}

// Modified Shepp–Logan (Toft, "The Radon transform", 1996; MATLAB phantom('Modified
// Shepp-Logan')): intensity, semi-axes a, b, centre (x0, y0), angle in degrees.
Phantom shepp_logan() {
  static const double table[10][6] = {
      {1.0, 0.69, 0.92, 0.0, 0.0, 0.0},        {-0.8, 0.6624, 0.8740, 0.0, -0.0184, 0.0},
      {-0.2, 0.1100, 0.3100, 0.22, 0.0, -18},  {-0.2, 0.1600, 0.4100, -0.22, 0.0, 18},
      {0.1, 0.2100, 0.2500, 0.0, 0.35, 0.0},   {0.1, 0.0460, 0.0460, 0.0, 0.1, 0.0},
      {0.1, 0.0460, 0.0460, 0.0, -0.1, 0.0},   {0.1, 0.0460, 0.0230, -0.08, -0.605, 0.0},
      {0.1, 0.0230, 0.0230, 0.0, -0.606, 0.0}, {0.1, 0.0230, 0.0460, 0.06, -0.605, 0.0}};
  Phantom p;
  p.additive = true;
  for (const auto& e : table) p.shapes.push_back(ellipse(e[0], e[1], e[2], e[3], e[4], e[5] * PETSC_PI / 180.0));
  return p;
}

Phantom random_ellipses(CounterRng& rng) {
  Phantom p;
  p.shapes.push_back(ellipse(rng.uniform(0.1, 0.3), rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.9),
                             rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05), rng.uniform(0.0, PETSC_PI)));
  const PetscInt count = rng.integer(4, 9);
  for (PetscInt k = 0; k < count; ++k) {
    const double cx = rng.uniform(-0.6, 0.6), cy = rng.uniform(-0.6, 0.6);
    const double a = rng.uniform(0.05, 0.45), b = rng.uniform(0.05, 0.45);
    const double phi = rng.uniform(0.0, PETSC_PI), value = rng.uniform(0.1, 1.0);
    p.shapes.push_back(ellipse(value, a, b, cx, cy, phi));
  }
  return p;
}

Phantom random_blocks(CounterRng& rng) {
  Phantom p;
  const PetscInt count = rng.integer(3, 8);
  for (PetscInt k = 0; k < count; ++k) {
    const double cx = rng.uniform(-0.7, 0.7), cy = rng.uniform(-0.7, 0.7);
    const double hw = rng.uniform(0.05, 0.4), hh = rng.uniform(0.05, 0.4), value = rng.uniform(0.1, 1.0);
    p.shapes.push_back(rectangle(value, hw, hh, cx, cy));
  }
  return p;
}

bool inside(const PhantomShape& s, double x, double y) noexcept {
  const double dx = x - s.cx, dy = y - s.cy;
  if (s.rectangle) return std::fabs(dx) <= s.a && std::fabs(dy) <= s.b;
  // Rotated ellipse, as in MATLAB's phantom: ((dx cosφ + dy sinφ)/a)² + ((dy cosφ − dx sinφ)/b)² ≤ 1.
  const double u = dx * s.cos_phi + dy * s.sin_phi, v = dy * s.cos_phi - dx * s.sin_phi;
  return (u * u) / (s.a * s.a) + (v * v) / (s.b * s.b) <= 1.0;
}

}  // namespace

double Phantom::value(double x, double y) const noexcept {
  double result = 0.0;
  for (const auto& s : shapes) {
    if (!inside(s, x, y)) continue;
    result = additive ? result + s.value : s.value;
  }
  // Round-off of the additive Shepp–Logan intensities (1 − 0.8 − 0.2) would leave −3e-17.
  return additive ? std::fmax(result, 0.0) : result;
}

const std::vector<std::string>& phantom_kinds() {
  static const std::vector<std::string> kinds = {"shepp", "ellipses", "blocks"};
  return kinds;
}

Phantom make_phantom(const std::string& kind, PetscInt seed, PetscInt sample) {
  CounterRng rng(static_cast<std::uint64_t>(seed), stream_id(StreamPurpose::phantom, sample));
  if (kind == "shepp") return shepp_logan();
  if (kind == "ellipses") return random_ellipses(rng);
  if (kind == "blocks") return random_blocks(rng);
  throw InputError("unknown value '" + kind + "' for -data_phantom (choose one of shepp, ellipses, blocks)");
}

void pixel_centre(PetscInt n, PetscInt row, PetscInt col, double* x, double* y) noexcept {
  if (n == 1) {
    *x = *y = 0.0;
    return;
  }
  const double d = static_cast<double>(n - 1);
  *x = static_cast<double>(2 * col - (n - 1)) / d;
  *y = static_cast<double>((n - 1) - 2 * row) / d;
}

void fill_phantom(const ImageGrid& grid, const Phantom& phantom, Vec image) {
  VecArray a(image);
  PetscInt k = 0;
  for (PetscInt r = grid.y0(); r < grid.y0() + grid.ny(); ++r)
    for (PetscInt c = grid.x0(); c < grid.x0() + grid.nx(); ++c) {
      double x, y;
      pixel_centre(grid.n(), r, c, &x, &y);
      a[k++] = phantom.value(x, y);
    }
}

}  // namespace bilearn
