#include "bilearn/io/raster.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "bilearn/core/error.hpp"
#include "bilearn/io/bitmap_font.hpp"
#include "bilearn/io/png.hpp"

namespace bilearn {
namespace {

// Clips the segment p0 + t (p1 − p0), t ∈ [0, 1], to [xlo, xhi] × [ylo, yhi] (Liang–Barsky);
// false if nothing is left.
bool clip_segment(double& x0, double& y0, double& x1, double& y1, double xlo, double ylo, double xhi, double yhi) {
  double t0 = 0, t1 = 1;
  const double dx = x1 - x0, dy = y1 - y0;
  const double p[4] = {-dx, dx, -dy, dy};
  const double q[4] = {x0 - xlo, xhi - x0, y0 - ylo, yhi - y0};
  for (int i = 0; i < 4; ++i) {
    if (p[i] == 0) {
      if (q[i] < 0) return false;
      continue;
    }
    const double t = q[i] / p[i];
    if (p[i] < 0)
      t0 = std::max(t0, t);
    else
      t1 = std::min(t1, t);
    if (t0 > t1) return false;
  }
  const double ax = x0, ay = y0;
  x0 = ax + t0 * dx;
  y0 = ay + t0 * dy;
  x1 = ax + t1 * dx;
  y1 = ay + t1 * dy;
  return true;
}

}  // namespace

Canvas::Canvas(int width, int height, Rgb background)
    : width_(std::max(width, 1)),
      height_(std::max(height, 1)),
      background_(background),
      clip_{0, 0, width_, height_},
      rgb_(3 * static_cast<size_t>(width_) * static_cast<size_t>(height_)) {
  for (size_t k = 0; k < rgb_.size(); k += 3) {
    rgb_[k] = background.r;
    rgb_[k + 1] = background.g;
    rgb_[k + 2] = background.b;
  }
}

Rgb Canvas::pixel(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return background_;
  const size_t k = 3 * (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x));
  return {rgb_[k], rgb_[k + 1], rgb_[k + 2]};
}

void Canvas::set_clip(const PixelRect& clip) {
  clip_ = {std::max(clip.x0, 0), std::max(clip.y0, 0), std::min(clip.x1, width_), std::min(clip.y1, height_)};
}

void Canvas::reset_clip() {
  clip_ = {0, 0, width_, height_};
}

void Canvas::set(int x, int y, Rgb c) {
  if (!clip_.contains(x, y)) return;
  const size_t k = 3 * (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x));
  rgb_[k] = c.r;
  rgb_[k + 1] = c.g;
  rgb_[k + 2] = c.b;
}

void Canvas::fill_rect(const PixelRect& r, Rgb c) {
  const int x0 = std::max(r.x0, clip_.x0), x1 = std::min(r.x1, clip_.x1);
  const int y0 = std::max(r.y0, clip_.y0), y1 = std::min(r.y1, clip_.y1);
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) set(x, y, c);
}

void Canvas::frame_rect(const PixelRect& r, Rgb c) {
  if (r.width() <= 0 || r.height() <= 0) return;
  fill_rect({r.x0, r.y0, r.x1, r.y0 + 1}, c);
  fill_rect({r.x0, r.y1 - 1, r.x1, r.y1}, c);
  fill_rect({r.x0, r.y0, r.x0 + 1, r.y1}, c);
  fill_rect({r.x1 - 1, r.y0, r.x1, r.y1}, c);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, int thickness) {
  if (!(std::isfinite(x0) && std::isfinite(y0) && std::isfinite(x1) && std::isfinite(y1))) return;
  const int t = std::max(thickness, 1);
  const double pad = t + 1.0;  // a thick stamp just outside the clip still touches it
  if (!clip_segment(x0, y0, x1, y1, clip_.x0 - pad, clip_.y0 - pad, clip_.x1 + pad, clip_.y1 + pad)) return;
  const int steps = static_cast<int>(std::ceil(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0))));
  const int lo = -(t - 1) / 2, hi = t / 2;  // the stamp: t × t pixels around the point
  for (int i = 0; i <= steps; ++i) {
    const double s = steps == 0 ? 0.0 : static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(x0 + s * (x1 - x0)));
    const int y = static_cast<int>(std::lround(y0 + s * (y1 - y0)));
    fill_rect({x + lo, y + lo, x + hi + 1, y + hi + 1}, c);
  }
}

void Canvas::dot(double x, double y, int radius, Rgb c) {
  if (!(std::isfinite(x) && std::isfinite(y)) || radius < 0) return;
  const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
  const double r2 = radius * (radius + 0.8);
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx)
      if (dx * dx + dy * dy <= r2) set(cx + dx, cy + dy, c);
}

void Canvas::text(int x, int y, const std::string& s, Rgb c, int scale) {
  const int k = std::max(scale, 1);
  for (char ch : s) {
    const font::Glyph* g = font::find_glyph(ch);
    if (!g) {
      frame_rect({x + k, y + k, x + font::glyph_width * k, y + font::glyph_height * k}, c);
    } else {
      const int shift = g->kind == font::descender ? font::descent : 0;
      const int rows = font::glyph_height + (g->kind == font::tall ? font::descent : 0);
      for (int row = 0; row < rows; ++row) {
        const char* ink = g->rows[std::min(row, font::glyph_height - 1)];
        for (int col = 0; col < font::glyph_width; ++col)
          if (ink[col] == '#')
            fill_rect({x + col * k, y + (row + shift) * k, x + (col + 1) * k, y + (row + shift + 1) * k}, c);
      }
    }
    x += font::advance * k;
  }
}

int Canvas::text_width(const std::string& s, int scale) {
  if (s.empty()) return 0;
  return (static_cast<int>(s.size()) * font::advance - (font::advance - font::glyph_width)) * std::max(scale, 1);
}

int Canvas::cap_height(int scale) {
  return font::glyph_height * std::max(scale, 1);
}

int Canvas::line_height(int scale) {
  return (font::glyph_height + font::descent) * std::max(scale, 1);
}

void write_canvas_png(const std::string& path, const Canvas& canvas) {
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  try {
    write_png_rgb8(tmp, canvas.rgb(), canvas.width(), canvas.height());
  } catch (const InputError&) {
    std::filesystem::remove(tmp, ec);
    throw InputError("cannot write PNG file '" + path + "'");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError("cannot write PNG file '" + path + "' (cannot rename '" + tmp + "')");
  }
}

}  // namespace bilearn
