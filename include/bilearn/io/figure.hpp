// A figure described as plain data: exactly what io/figure_render.cpp hands to PLplot (page
// size, panels with their axis ranges and the points of every curve, grey-level images with
// their intensity windows, the texts). Builders (history_plot, reconstruction_figure) fill it
// and tests check it; the renderer only translates it into PLplot calls.
//
// Coordinates: a viewport is a fraction of the page, x to the right and y upwards (PLplot's
// normalised device coordinates, (0, 0) the bottom-left corner). Curve points are axis
// coordinates: the values themselves on a linear axis, log10 of the values on a log axis.
#pragma once
#include <mpi.h>

#include <string>
#include <vector>

namespace bilearn {

struct Colour {
  unsigned char r = 0, g = 0, b = 0;
  bool operator==(const Colour& o) const { return r == o.r && g == o.g && b == o.b; }
};

struct Viewport {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
};

// One axis of a panel: the coordinate range covered (lo < hi) and how it is labelled.
struct FigureAxis {
  double lo = 0, hi = 1;
  bool log = false;     // coordinates are log10 of the values; labels show the values
  bool numbers = true;  // tick labels (false: ticks only, e.g. a shared x axis)
  std::string label;    // axis title ("" for none)
  Colour label_colour{30, 30, 30};
};

// One connected curve (one plline call): points in axis coordinates, no gaps.
struct FigureLine {
  std::vector<double> x, y;
  Colour colour;
  bool markers = false;     // a dot at every point
  bool right_axis = false;  // drawn against the panel's right-hand y axis
};

// Vertical bars from `base` to y[k], centred at x[k], `half_width` wide each side.
struct FigureBars {
  std::vector<double> x, y;
  double base = 0, half_width = 0.35;
  Colour colour;
};

struct FigurePanel {
  Viewport viewport;
  FigureAxis x, y;
  bool has_right_axis = false;
  FigureAxis y_right;  // used when has_right_axis
  std::string title;   // above the panel, left-aligned
  std::string note;    // centred in the panel (e.g. "no data"); "" for none
  std::vector<FigureBars> bars;
  std::vector<FigureLine> lines;
};

// A grey-level image: rows × cols values row-major, row 0 at the top; values are clamped to
// [lo, hi] (lo < hi) and drawn black to white.
struct FigureImage {
  Viewport viewport;
  std::vector<double> values;
  int rows = 0, cols = 0;
  double lo = 0, hi = 1;
  std::string title;  // above the image, centred
};

struct Figure {
  int width = 0, height = 0;  // pixels
  std::vector<FigurePanel> panels;
  std::vector<FigureImage> images;
};

// Draws the figure with PLplot (cairo, in memory) and returns its RGB pixels, row-major, top
// row first. Not collective; not thread-safe (PLplot keeps global state). Throws InputError
// if PLplot cannot draw it (the message names PLplot's complaint; nothing is printed).
std::vector<unsigned char> render_figure(const Figure& figure);

// Draws the figure and writes it as an RGB PNG. The file appears atomically: it is written to
// "<path>.tmp" and renamed to path, so a reader never sees a partial file and a failure leaves
// a previous file untouched (and no temporary file). Not collective. Throws InputError.
void write_figure_png(const std::string& path, const Figure& figure);

// Collective: rank 0 draws and writes its figure (the other ranks' figures are ignored); a
// failure is the same InputError on every rank.
void write_figure_png(MPI_Comm comm, const std::string& path, const Figure& figure);

}  // namespace bilearn
