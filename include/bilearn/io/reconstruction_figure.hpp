// reconstructions.png: one row per sample, truth | initial | learned reconstruction as grey
// images side by side. The three images of a row share one intensity window, the truth's
// [min, max] (black to white; values outside are clamped), so they can be compared by eye;
// the titles give each reconstruction's PSNR (the value reported in summary.json).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "bilearn/io/figure.hpp"

namespace bilearn {

// An image for a figure: rows × cols values (natural order, row 0 at the top), possibly a
// reduced copy of the full image; min and max are those of the full image.
struct GreyImage {
  std::vector<double> values;
  int rows = 0, cols = 0;
  double min = 0, max = 0;
};

struct ReconstructionRow {
  int sample = 0;  // global sample number
  GreyImage truth, initial, learned;
  double psnr_initial = 0, psnr_learned = 0;  // dB
};

constexpr int reconstruction_tile = 256;  // pixels per image side in the figure (images are reduced to at most this)

// A rows × cols natural-order image reduced by averaging blocks of f × f pixels, f the smallest
// integer with ceil(rows / f) and ceil(cols / f) ≤ max_side (blocks cut by the border average
// the pixels they have); min and max are those of the full image (NaN values ignored).
GreyImage reduced_image(const std::vector<double>& natural, int rows, int cols, int max_side);

// The titles above truth, initial and learned image of a row ("sample 3: truth",
// "initial: PSNR 21.37 dB", "learned: PSNR 25.08 dB").
std::array<std::string, 3> reconstruction_titles(const ReconstructionRow& row);

// The figure: page size follows from the number of rows (at least one).
Figure reconstruction_figure(const std::vector<ReconstructionRow>& rows);

}  // namespace bilearn
