#include "bilearn/io/reconstruction_figure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

// Page layout in pixels around the image tiles.
constexpr int margin_px = 16, column_gap_px = 24, top_px = 6, title_px = 28, row_gap_px = 10, bottom_px = 10;

std::string psnr_text(double db) {
  if (std::isinf(db) && db > 0) return "PSNR ∞";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "PSNR %.2f dB", db);
  return buf;
}

}  // namespace

GreyImage reduced_image(const std::vector<double>& natural, int rows, int cols, int max_side) {
  require(rows > 0 && cols > 0 && natural.size() == static_cast<size_t>(rows) * static_cast<size_t>(cols),
          "reduced_image: " + std::to_string(natural.size()) + " values are not a " + std::to_string(rows) + " x " +
              std::to_string(cols) + " image");
  require(max_side > 0, "reduced_image: max_side must be positive");
  GreyImage g;
  g.min = std::numeric_limits<double>::infinity();
  g.max = -g.min;
  for (double v : natural)
    if (!std::isnan(v)) {
      g.min = std::min(g.min, v);
      g.max = std::max(g.max, v);
    }
  const int f = std::max((std::max(rows, cols) + max_side - 1) / max_side, 1);
  g.rows = (rows + f - 1) / f;
  g.cols = (cols + f - 1) / f;
  g.values.assign(static_cast<size_t>(g.rows) * static_cast<size_t>(g.cols), 0.0);
  std::vector<int> count(g.values.size(), 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double v = natural[static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c)];
      if (std::isnan(v)) continue;
      const size_t k = static_cast<size_t>(r / f) * static_cast<size_t>(g.cols) + static_cast<size_t>(c / f);
      g.values[k] += v;
      ++count[k];
    }
  for (size_t k = 0; k < g.values.size(); ++k)
    g.values[k] = count[k] ? g.values[k] / count[k] : std::numeric_limits<double>::quiet_NaN();
  return g;
}

std::array<std::string, 3> reconstruction_titles(const ReconstructionRow& row) {
  return {"sample " + std::to_string(row.sample) + ": truth", "initial: " + psnr_text(row.psnr_initial),
          "learned: " + psnr_text(row.psnr_learned)};
}

Figure reconstruction_figure(const std::vector<ReconstructionRow>& rows) {
  constexpr int tile = reconstruction_tile;
  require(!rows.empty(), "reconstruction figure: no samples");
  Figure f;
  const int n = static_cast<int>(rows.size());
  f.width = 2 * margin_px + 3 * tile + 2 * column_gap_px;
  f.height = top_px + n * (title_px + tile) + (n - 1) * row_gap_px + bottom_px;
  const double W = f.width, H = f.height;
  for (int i = 0; i < n; ++i) {
    const ReconstructionRow& row = rows[static_cast<size_t>(i)];
    // The truth's range is the window of the whole row (a flat truth gets a unit window).
    double lo = row.truth.min, hi = row.truth.max;
    if (!(std::isfinite(lo) && std::isfinite(hi))) lo = 0, hi = 1;
    if (!(hi > lo)) hi = lo + 1;
    const std::array<std::string, 3> titles = reconstruction_titles(row);
    const GreyImage* images[3] = {&row.truth, &row.initial, &row.learned};
    const int top = top_px + i * (title_px + tile + row_gap_px) + title_px;
    for (int j = 0; j < 3; ++j) {
      const int left = margin_px + j * (tile + column_gap_px);
      FigureImage im;
      im.viewport = {left / W, (left + tile) / W, 1.0 - (top + tile) / H, 1.0 - top / H};
      im.values = images[j]->values;
      im.rows = images[j]->rows;
      im.cols = images[j]->cols;
      im.lo = lo;
      im.hi = hi;
      im.title = titles[static_cast<size_t>(j)];
      f.images.push_back(std::move(im));
    }
  }
  return f;
}

}  // namespace bilearn
