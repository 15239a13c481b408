// X-ray geometry: the -tomo_* options, the line of every ray, and the exact intersection
// lengths of a line with the pixels of the image (Siddon's method).
//
// Conventions (docs/design.md "Geometry conventions", compatible with AIR Tools II paralleltomo)
// - Image: N×N unit pixels centred at the origin, domain [−h, h]² with h = N/2. Pixel (r, c)
//   (row r, 0 at the TOP; column c, 0 at the LEFT) covers x ∈ [c − h, c + 1 − h],
//   y ∈ [h − r − 1, h − r]; its natural index is r·N + c; on the grid it is DMDA (i = c, j = r).
// - Angles (degrees): θ_k = θ0 + k·Δ/K, k = 0..K−1, K = -tomo_angles, θ0 = -tomo_angle_start,
//   Δ = -tomo_angle_range (defaults 180, 0, 180: 0°, 1°, …, 179°). Multiples of 90° use exact
//   cos/sin so axis-aligned rays are exactly axis-aligned.
// - Detector positions: p = -tomo_rays elements, u_j = −d/2 + j·d/(p − 1) (u = 0 when p = 1),
//   d = -tomo_width.
// - Parallel beam: ray j at angle θ is the line through (u_j cosθ, u_j sinθ) with direction
//   (−sinθ, cosθ). At 0° the rays are vertical and the detector coordinate is x; at 90° they
//   are horizontal and the detector coordinate is y. Defaults p = round(√2·N), d = p − 1.
// - Fan beam: source S = R·(sinθ, −cosθ), R = -tomo_source_distance (default 2N); flat detector
//   at distance D = -tomo_detector_distance from the source (default 4N), perpendicular to the
//   central ray, element j at E_j = S + D·(−sinθ, cosθ) + u_j·(cosθ, sinθ); ray j is the line
//   S → E_j (at 0° the source is below the image and the detector coordinate is x, as for the
//   parallel beam; R → ∞ with d ∝ D/R gives the parallel beam back). Only the line matters:
//   a detector that would cut the domain (D < R + √2·h) acts as a virtual detector.
//   Default width: the fan covers the disc of radius ρ = √2·h around the origin (so the whole
//   domain, including its diagonal, is seen from every source angle):
//     d = 2·D·tan(asin(ρ/R)) = 2·D·ρ / √(R² − ρ²).
//   Requirements: D > R > ρ (the source lies outside the domain).
// - Rows: angle-major, row = k·p + j. A(row, pixel) = length of the line inside the pixel.
//   The line is clipped to the domain, cut at every crossing with the grid lines x = k − h and
//   y = k − h, and each segment is given to the pixel containing its midpoint, with pixels
//   half-open: column c = ⌊x_mid + h⌋, row r = N − 1 − ⌊y_mid + h⌋. Hence a ray lying exactly on
//   an interior grid line is given to the column on its RIGHT (larger x) or to the row ABOVE it
//   (larger y, smaller r); a ray along the left or bottom edge of the domain is kept and a ray
//   along the right or top edge is dropped (as AIR Tools does: no edge is counted twice).
//   Segments shorter than 1e-12·N (corner crossings) are dropped.
#pragma once
#include <petscsys.h>

#include <string>
#include <vector>

namespace bilearn {

enum class BeamType { parallel, fan };

// A line {point + t·direction}, direction of unit length, point = foot of the perpendicular
// from the origin (so that t is O(N) inside the domain).
struct RayLine {
  PetscReal px = 0, py = 0;
  PetscReal dx = 0, dy = 1;
};

// One pixel crossed by a ray: natural coordinates and intersection length.
struct PixelHit {
  PetscInt row = 0, col = 0;  // pixel row r (0 at the top), column c (0 at the left)
  PetscReal length = 0;
};

struct XrayGeometry {
  BeamType beam = BeamType::parallel;
  PetscInt n = 0;                   // image side N
  PetscInt angles = 180;            // K
  PetscReal angle_start = 0;        // θ0 in degrees
  PetscReal angle_range = 180;      // Δ in degrees, angles cover [θ0, θ0 + Δ)
  PetscInt rays = 0;                // p
  PetscReal width = 0;              // d
  PetscReal source_distance = 0;    // R (fan only)
  PetscReal detector_distance = 0;  // D (fan only)

  PetscInt rows() const noexcept { return angles * rays; }
  PetscReal angle_degrees(PetscInt k) const noexcept;
  PetscReal detector_position(PetscInt j) const noexcept;  // u_j
  RayLine ray(PetscInt row) const;                         // line of row k·p + j
  std::string describe() const;                            // e.g. "parallel beam, 180 angles, 91 rays"
};

// Reads and validates the -tomo_* options for an n×n image (InputError naming the option on
// bad values). Collective on comm (every rank gets the same geometry).
XrayGeometry read_xray_geometry(MPI_Comm comm, PetscInt n);

// Exact cos and sin of an angle in degrees (exact for multiples of 90°).
void cos_sin_degrees(PetscReal degrees, PetscReal* c, PetscReal* s);

// Traces one line through the n×n image: clears hits and appends the crossed pixels in the
// order the ray meets them. Work buffers are reused between calls (no allocation once warm).
class RayTracer {
 public:
  explicit RayTracer(PetscInt n);
  void trace(const RayLine& ray, std::vector<PixelHit>& hits);

 private:
  PetscInt n_;
  std::vector<PetscReal> tx_, ty_, t_;
};

}  // namespace bilearn
