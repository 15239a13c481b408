// X-ray geometry: -tomo_* options, ray lines, and Siddon's exact line-length tracing.
// Conventions and formulas: include/bilearn/problem/xray_geometry.hpp.
#include "bilearn/problem/xray_geometry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {

namespace {

std::string number(PetscReal v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

void cos_sin_degrees(PetscReal degrees, PetscReal* c, PetscReal* s) {
  const PetscReal reduced = std::fmod(degrees, PetscReal(360));  // exact
  const PetscReal quarter = reduced / 90;
  if (quarter == std::nearbyint(quarter)) {
    const long q = ((static_cast<long>(std::nearbyint(quarter)) % 4) + 4) % 4;
    static const PetscReal cq[4] = {1, 0, -1, 0}, sq[4] = {0, 1, 0, -1};
    *c = cq[q];
    *s = sq[q];
    return;
  }
  const PetscReal radians = reduced * (PETSC_PI / 180);
  *c = std::cos(radians);
  *s = std::sin(radians);
}

PetscReal XrayGeometry::angle_degrees(PetscInt k) const noexcept {
  return angle_start + (static_cast<PetscReal>(k) * angle_range) / static_cast<PetscReal>(angles);
}

PetscReal XrayGeometry::detector_position(PetscInt j) const noexcept {
  if (rays == 1) return 0;
  return (static_cast<PetscReal>(j) * width) / static_cast<PetscReal>(rays - 1) - width / 2;
}

RayLine XrayGeometry::ray(PetscInt row) const {
  const PetscInt k = row / rays, j = row % rays;
  PetscReal c, s;
  cos_sin_degrees(angle_degrees(k), &c, &s);
  const PetscReal u = detector_position(j);
  RayLine line;
  if (beam == BeamType::parallel) {
    // Through (u cosθ, u sinθ) along (−sinθ, cosθ); that point is already the foot.
    line.px = u * c;
    line.py = u * s;
    line.dx = -s;
    line.dy = c;
    return line;
  }
  // Fan: S = R(sinθ, −cosθ), E − S = D(−sinθ, cosθ) + u(cosθ, sinθ).
  const PetscReal sx = source_distance * s, sy = -source_distance * c;
  const PetscReal vx = -detector_distance * s + u * c, vy = detector_distance * c + u * s;
  const PetscReal len = std::hypot(vx, vy);
  line.dx = vx / len;
  line.dy = vy / len;
  // Foot of the perpendicular from the origin: P = S − (S·dir) dir.
  const PetscReal along = sx * line.dx + sy * line.dy;
  line.px = sx - along * line.dx;
  line.py = sy - along * line.dy;
  return line;
}

std::string XrayGeometry::describe() const {
  std::ostringstream s;
  s << (beam == BeamType::parallel ? "parallel" : "fan") << " beam, " << angles << " angles, " << rays << " rays";
  return s.str();
}

XrayGeometry read_xray_geometry(MPI_Comm comm, PetscInt n) {
  require(n >= 1, "the image side must be positive, got " + std::to_string(n));
  XrayGeometry g;
  g.n = n;
  OptionsBlock block(comm, "tomo_", "X-ray transform (-problem tomo)");
  const std::string beam = block.choice("-geometry", "beam geometry", {"parallel", "fan"}, "parallel");
  g.beam = beam == "fan" ? BeamType::fan : BeamType::parallel;
  g.angles = block.integer("-angles", "number of projection angles K", 180, 1);
  g.angle_start = block.real("-angle_start", "first angle (degrees)", 0);
  g.angle_range = block.real("-angle_range", "angles cover [start, start + range) degrees, equally spaced", 180);
  require(g.angle_range > 0 && g.angle_range <= 360,
          block.full_name("-angle_range") + " must be in (0, 360] degrees, got " + number(g.angle_range));
  const PetscInt default_rays = std::max<PetscInt>(1, static_cast<PetscInt>(std::lround(std::sqrt(2.0) * n)));
  g.rays = block.integer("-rays", "number of rays (detector elements) per angle p, default round(sqrt(2) N)",
                         default_rays, 1);
  require(static_cast<long long>(g.angles) * g.rays <= PETSC_MAX_INT,
          block.full_name("-angles") + " x " + block.full_name("-rays") + " rows do not fit in a PetscInt");
  g.source_distance =
      block.real("-source_distance", "fan beam: source to centre of rotation distance R, default 2N", 2.0 * n);
  g.detector_distance =
      block.real("-detector_distance", "fan beam: source to detector distance D, default 4N", 4.0 * n);
  const PetscReal rho = std::sqrt(2.0) * n / 2;  // radius of the disc around the domain
  PetscReal default_width = static_cast<PetscReal>(g.rays - 1);
  if (g.beam == BeamType::fan) {
    require(g.source_distance > rho, block.full_name("-source_distance") + " must be > sqrt(2)*N/2 = " + number(rho) +
                                         " (the source must lie outside the image), got " + number(g.source_distance));
    require(g.detector_distance > g.source_distance,
            block.full_name("-detector_distance") + " must be > " + block.full_name("-source_distance") + " = " +
                number(g.source_distance) + ", got " + number(g.detector_distance));
    // The fan covers the disc of radius ρ: half-width D·tan(asin(ρ/R)) = D·ρ/√(R² − ρ²).
    const PetscReal R = g.source_distance;
    default_width = 2 * g.detector_distance * rho / std::sqrt(R * R - rho * rho);
  }
  g.width = block.real("-width",
                       "distance from the first to the last ray (parallel) or detector element (fan); default p-1 "
                       "(parallel), the fan covering the whole domain (fan)",
                       default_width);
  if (g.rays > 1)
    require(g.width > 0, block.full_name("-width") + " must be > 0 when " + block.full_name("-rays") + " > 1, got " +
                             number(g.width));
  else
    require(g.width >= 0, block.full_name("-width") + " must be >= 0, got " + number(g.width));
  return g;
}

RayTracer::RayTracer(PetscInt n) : n_(n) {
  tx_.reserve(static_cast<size_t>(n + 1));
  ty_.reserve(static_cast<size_t>(n + 1));
  t_.reserve(static_cast<size_t>(2 * n + 4));
}

namespace {

// Parameters t in (tlo, thi), increasing, where p + t·d crosses the lines k − h, k = 0..n.
void crossings(PetscReal p, PetscReal d, PetscReal tlo, PetscReal thi, PetscInt n, std::vector<PetscReal>& out) {
  out.clear();
  if (d == 0) return;
  const PetscReal h = 0.5 * n;
  const PetscReal a = p + tlo * d + h, b = p + thi * d + h;  // line coordinate + h at both ends
  if (d > 0) {
    const PetscInt k0 = std::max<PetscInt>(0, static_cast<PetscInt>(std::ceil(a)));
    const PetscInt k1 = std::min<PetscInt>(n, static_cast<PetscInt>(std::floor(b)));
    for (PetscInt k = k0; k <= k1; ++k) {
      const PetscReal t = (k - h - p) / d;
      if (t > tlo && t < thi) out.push_back(t);
    }
  } else {
    const PetscInt k0 = std::min<PetscInt>(n, static_cast<PetscInt>(std::floor(a)));
    const PetscInt k1 = std::max<PetscInt>(0, static_cast<PetscInt>(std::ceil(b)));
    for (PetscInt k = k0; k >= k1; --k) {
      const PetscReal t = (k - h - p) / d;
      if (t > tlo && t < thi) out.push_back(t);
    }
  }
}

// Narrows [tlo, thi] to the slab −h ≤ p + t·d ≤ h; false if the line misses the slab.
bool clip(PetscReal p, PetscReal d, PetscReal h, PetscReal& tlo, PetscReal& thi) {
  if (d == 0) return p >= -h && p <= h;
  const PetscReal t1 = (-h - p) / d, t2 = (h - p) / d;
  tlo = std::max(tlo, std::min(t1, t2));
  thi = std::min(thi, std::max(t1, t2));
  return true;
}

}  // namespace

void RayTracer::trace(const RayLine& ray, std::vector<PixelHit>& hits) {
  hits.clear();
  const PetscInt n = n_;
  const PetscReal h = 0.5 * n;
  const PetscReal tol = 1e-12 * n;  // shorter segments are corner crossings
  PetscReal tlo = -std::numeric_limits<PetscReal>::infinity(), thi = std::numeric_limits<PetscReal>::infinity();
  if (!clip(ray.px, ray.dx, h, tlo, thi) || !clip(ray.py, ray.dy, h, tlo, thi)) return;
  if (!(thi - tlo > tol)) return;
  crossings(ray.px, ray.dx, tlo, thi, n, tx_);
  crossings(ray.py, ray.dy, tlo, thi, n, ty_);
  t_.clear();
  t_.push_back(tlo);
  std::merge(tx_.begin(), tx_.end(), ty_.begin(), ty_.end(), std::back_inserter(t_));
  t_.push_back(thi);
  for (size_t i = 0; i + 1 < t_.size(); ++i) {
    const PetscReal length = t_[i + 1] - t_[i];
    if (length <= tol) continue;
    const PetscReal tm = 0.5 * (t_[i] + t_[i + 1]);
    // Half-open pixels: c = ⌊x + h⌋, r = N − 1 − ⌊y + h⌋ (see the header).
    const PetscReal xm = ray.px + tm * ray.dx + h, ym = ray.py + tm * ray.dy + h;
    if (!(xm >= 0 && xm < n && ym >= 0 && ym < n)) continue;
    const PetscInt c = static_cast<PetscInt>(std::floor(xm));
    const PetscInt r = n - 1 - static_cast<PetscInt>(std::floor(ym));
    if (!hits.empty() && hits.back().row == r && hits.back().col == c)
      hits.back().length += length;  // only after a round-off split; keeps the row exact
    else
      hits.push_back({r, c, length});
  }
}

}  // namespace bilearn
