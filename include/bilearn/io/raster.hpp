// A small RGB raster canvas for plots written as PNG files (libpng): pixels, filled
// rectangles, thick line segments, filled dots and text in a built-in 5×7 bitmap font
// (digits, ASCII letters and a few signs; no anti-aliasing). Coordinates are pixels, x to
// the right and y downwards, (0, 0) the top-left corner; everything is clipped to the canvas
// and to an optional clip rectangle.
#pragma once
#include <string>
#include <vector>

namespace bilearn {

struct Rgb {
  unsigned char r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
  bool operator!=(const Rgb& o) const { return !(*this == o); }
};

// Half-open pixel rectangle [x0, x1) × [y0, y1).
struct PixelRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

class Canvas {
 public:
  Canvas(int width, int height, Rgb background);

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  Rgb pixel(int x, int y) const;                                           // background colour outside
  const std::vector<unsigned char>& rgb() const noexcept { return rgb_; }  // row-major RGB

  // Drawing is limited to clip ∩ canvas until reset_clip().
  void set_clip(const PixelRect& clip);
  void reset_clip();

  void set(int x, int y, Rgb c);
  void fill_rect(const PixelRect& r, Rgb c);
  void frame_rect(const PixelRect& r, Rgb c);  // 1-pixel outline just inside r
  // Segment from (x0, y0) to (x1, y1) (pixel centres), `thickness` pixels wide.
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness = 1);
  void dot(double x, double y, int radius, Rgb c);  // filled disc

  // Text with its top-left corner at (x, y), each font pixel drawn as scale × scale.
  // Characters without a glyph are drawn as a small box.
  void text(int x, int y, const std::string& s, Rgb c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);  // advance of the whole string
  static int cap_height(int scale = 1);                        // digits and capitals
  static int line_height(int scale = 1);                       // including descenders

 private:
  int width_, height_;
  Rgb background_;
  PixelRect clip_;
  std::vector<unsigned char> rgb_;
};

// Writes the canvas as an 8-bit RGB PNG (write_png_rgb8 of png.hpp; read_png_rgb8 reads it
// back). Not collective. The file appears atomically: it is written to "<path>.tmp" and
// renamed to path. Throws InputError if it cannot be written.
void write_canvas_png(const std::string& path, const Canvas& canvas);

}  // namespace bilearn
