// Test images ("phantoms") on an ImageGrid. A phantom is a short list of shapes in the
// normalised square [−1, 1]² (x to the right, y up; pixel centres of the first/last
// column at x = ∓1, of the top/bottom row at y = ±1, as MATLAB's phantom and AIR Tools).
// Every pixel's value is computed from its centre alone, so an image is the same bits on
// any number of ranks.
//
// Families (-data_phantom):
//   shepp     modified Shepp–Logan (Toft's 10 ellipses with the "modified" intensities
//             1, −0.8, −0.2, −0.2, 0.1, …); intensities add up; values in [0, 1]. Every
//             sample is the same image (no jitter): a set's samples differ only in noise.
//   ellipses  one large "body" ellipse (intensity 0.1–0.3) and 4–9 random ellipses
//             (centre in [−0.6, 0.6]², semi-axes 0.05–0.45, any angle, intensity 0.1–1),
//             painted in order (a later shape overwrites); values in [0, 1].
//   blocks    3–8 random axis-aligned rectangles (centre in [−0.7, 0.7]², half-widths
//             0.05–0.4, intensity 0.1–1), painted in order; values in [0, 1].
// The random shapes of sample s come from the serial counter-based stream
// (seed, phantom stream of s) (noise.hpp), identical on every rank.
#pragma once
#include <petscvec.h>

#include <string>
#include <vector>

#include "bilearn/core/image_grid.hpp"

namespace bilearn {

struct PhantomShape {
  bool rectangle = false;  // false: ellipse
  double value = 0.0;      // intensity (added or painted)
  double cx = 0.0, cy = 0.0;
  double a = 0.0, b = 0.0;              // semi-axes (ellipse, before rotation) or half-widths (rectangle)
  double cos_phi = 1.0, sin_phi = 0.0;  // ellipse rotation, counter-clockwise
};

struct Phantom {
  std::vector<PhantomShape> shapes;
  bool additive = false;  // true: values of overlapping shapes add; false: last one wins
  // Value at the point (x, y) of [−1, 1]².
  double value(double x, double y) const noexcept;
};

// The phantom families by name; anything else is an InputError naming -data_phantom.
const std::vector<std::string>& phantom_kinds();
Phantom make_phantom(const std::string& kind, PetscInt seed, PetscInt sample);

// Centre of pixel (row, col) of an N×N image in [−1, 1]²: x = (2c − (N−1))/(N−1),
// y = ((N−1) − 2r)/(N−1); (0, 0) when N = 1.
void pixel_centre(PetscInt n, PetscInt row, PetscInt col, double* x, double* y) noexcept;

// Writes the phantom into image (a global vector of grid), each rank its own pixels only.
void fill_phantom(const ImageGrid& grid, const Phantom& phantom, Vec image);

}  // namespace bilearn
