// Figures drawn by PLplot: the only file that talks to PLplot. Each figure is drawn on a stream
// of its own (plmkstrm … plend1) by the cairo driver into memory ("memcairo"), so PLplot never
// touches the file system and the PNG is written by our libpng writer (atomically).
//
// PLplot reports trouble three ways, none of which may reach the terminal of a run:
//   - plabort (an operation is skipped): with plsError set it only fills our message buffer;
//   - plexit (fatal): calls the exit handler and then exit(); our handler throws instead, so
//     the exception unwinds through PLplot's C frames (they carry unwind tables) back here;
//   - an unknown device makes plinit ask on stdin: the device list is checked first.
// Inputs are validated before drawing, so neither should happen in practice.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/io/figure.hpp"
#include "bilearn/io/png.hpp"

namespace bilearn {
namespace {

constexpr const char* device = "memcairo";
constexpr Colour frame_colour{90, 90, 90};
constexpr Colour grid_colour{225, 225, 225};
constexpr Colour note_colour{150, 150, 150};
constexpr Colour text_colour{30, 30, 30};
constexpr double text_px = 14.5;  // character height in pixels

struct PlplotFatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int throw_on_exit(const char* message) {
  throw PlplotFatal(message ? message : "fatal error");
}

std::string trimmed(const char* s) {
  std::string t(s);
  const size_t a = t.find_first_not_of(" \n*"), b = t.find_last_not_of(" \n");
  return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
}

// A PLplot stream of our own drawing into an RGBA buffer; restores the caller's stream.
class Stream {
 public:
  Stream(int width, int height, unsigned char* rgba) {
    plgstrm(&previous_);
    plmkstrm(&stream_);
    if (stream_ < 0) throw InputError("PLplot: no free plot stream");
    try {
      plsError(&code_, message_);
      plsexit(throw_on_exit);
      check_device();
      plsdev(device);
      plsmema(width, height, rgba);
      plinit();
      check();
    } catch (...) {
      close();
      throw;
    }
  }
  ~Stream() { close(); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Turns a skipped operation into an InputError.
  void check() const {
    if (code_ != 0) throw InputError("PLplot: " + trimmed(message_));
  }

 private:
  // Ends our stream (the driver copies the picture into the buffer) and selects the caller's.
  void close() noexcept {
    try {
      plsstrm(stream_);
      plend1();
    } catch (const PlplotFatal&) {  // nothing left to clean up
    }
    plsstrm(previous_);
  }

  // plinit would prompt on stdin for a device it does not know.
  void check_device() {
    const char* menu[128];
    const char* names[128];
    const char** pm = menu;
    const char** pn = names;
    int n = 128;
    plgDevs(&pm, &pn, &n);
    const std::string hint = " (is PLplot's cairo driver, Debian package plplot-driver-cairo, installed?)";
    if (code_ != 0) throw InputError("PLplot: " + trimmed(message_) + hint);
    for (int i = 0; i < n; ++i)
      if (std::strcmp(names[i], device) == 0) return;
    throw InputError(std::string("PLplot has no '") + device + "' device" + hint);
  }

  PLINT previous_ = 0, stream_ = -1, code_ = 0;
  char message_[1024] = "";
};

void colour(const Colour& c) {
  plscol0(15, c.r, c.g, c.b);
  plcol0(15);
}

// How a log axis is labelled: PLplot's own decade labels ("l", with marks at 2…9 × 10^k) when
// one to five decade marks lie inside; our labels ("o") otherwise: every k-th decade on a wide
// axis, evenly spaced log10 coordinates labelled with their values on a narrow one.
enum class LogLabels { decades, wide, narrow };

LogLabels log_labels(const FigureAxis& a) {
  const double decades = std::floor(a.hi) - std::ceil(a.lo);
  return decades > 5 ? LogLabels::wide : decades >= 1 ? LogLabels::decades : LogLabels::narrow;
}

// Our labels of a log axis (label_data: the axis).
void log_label(PLINT, PLFLT coordinate, char* label, PLINT length, PLPointer data) {
  const FigureAxis& a = *static_cast<const FigureAxis*>(data);
  if (log_labels(a) == LogLabels::wide) {
    std::snprintf(label, static_cast<size_t>(length), "10#u%d#d", static_cast<int>(std::lround(coordinate)));
    return;
  }
  const double top = std::pow(10.0, a.hi), spacing = (top - std::pow(10.0, a.lo)) / 6;
  const int digits = std::clamp(static_cast<int>(std::ceil(std::log10(top / spacing))), 2, 12);
  std::snprintf(label, static_cast<size_t>(length), "%.*g", digits, std::pow(10.0, coordinate));
}

// Major tick spacing handed to plbox: a whole number of decades on a wide log axis, PLplot's
// own choice (0) elsewhere.
double major_spacing(const FigureAxis& a) {
  if (!a.log || log_labels(a) != LogLabels::wide) return 0;
  return std::ceil((std::floor(a.hi) - std::ceil(a.lo)) / 5);
}

// plbox options of a y axis drawn on the left (or right) side.
std::string y_options(const FigureAxis& a, bool right) {
  std::string o = right ? "cstv" : "bstv";
  if (a.numbers) o += right ? "m" : "n";
  if (a.log) o += log_labels(a) == LogLabels::decades ? "l" : "o";
  return o;
}

void check_axis(const FigureAxis& a, const char* which) {
  if (!(std::isfinite(a.lo) && std::isfinite(a.hi) && a.lo < a.hi))
    throw InputError(std::string("figure: invalid ") + which + " axis range");
}

void check_points(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw InputError("figure: a curve has different numbers of x and y values");
  for (size_t k = 0; k < x.size(); ++k)
    if (!std::isfinite(x[k]) || !std::isfinite(y[k])) throw InputError("figure: a curve has a non-finite point");
}

void draw_panel(const FigurePanel& p) {
  check_axis(p.x, "x");
  check_axis(p.y, "y");
  if (p.has_right_axis) check_axis(p.y_right, "right y");
  plvpor(p.viewport.x0, p.viewport.x1, p.viewport.y0, p.viewport.y1);
  plwind(p.x.lo, p.x.hi, p.y.lo, p.y.hi);
  colour(grid_colour);
  plbox("g", 0, 0, p.y.log && log_labels(p.y) == LogLabels::decades ? "gl" : "g", major_spacing(p.y), 0);

  for (const FigureBars& b : p.bars) {
    check_points(b.x, b.y);
    colour(b.colour);
    for (size_t k = 0; k < b.x.size(); ++k) {
      // Kept inside the window (a bar may start below a negative axis minimum).
      const double lo = std::clamp(std::min(b.base, b.y[k]), p.y.lo, p.y.hi);
      const double hi = std::clamp(std::max(b.base, b.y[k]), p.y.lo, p.y.hi);
      PLFLT xs[4] = {b.x[k] - b.half_width, b.x[k] + b.half_width, b.x[k] + b.half_width, b.x[k] - b.half_width};
      PLFLT ys[4] = {lo, lo, hi, hi};
      if (hi > lo) plfill(4, xs, ys);
    }
  }
  auto draw_lines = [&](bool right) {
    for (const FigureLine& l : p.lines) {
      if (l.right_axis != right) continue;
      check_points(l.x, l.y);
      colour(l.colour);
      plwidth(2.0);
      if (l.x.size() > 1) plline(static_cast<PLINT>(l.x.size()), l.x.data(), l.y.data());
      plwidth(1.0);
      if (l.markers || l.x.size() == 1) plstring(static_cast<PLINT>(l.x.size()), l.x.data(), l.y.data(), "•");
    }
  };
  draw_lines(false);

  colour(frame_colour);
  plslabelfunc(log_label, const_cast<FigureAxis*>(&p.y));
  plbox(p.x.numbers ? "bcnst" : "bcst", 0, 0, y_options(p.y, false).c_str(), major_spacing(p.y), 0);
  colour(text_colour);
  if (!p.x.label.empty()) plmtex("b", 2.8, 0.5, 0.5, p.x.label.c_str());
  colour(p.y.label_colour);
  if (!p.y.label.empty()) plmtex("l", 5.6, 0.5, 0.5, p.y.label.c_str());
  if (p.has_right_axis) {
    plwind(p.x.lo, p.x.hi, p.y_right.lo, p.y_right.hi);
    draw_lines(true);
    colour(frame_colour);
    plslabelfunc(log_label, const_cast<FigureAxis*>(&p.y_right));
    plbox("", 0, 0, y_options(p.y_right, true).c_str(), major_spacing(p.y_right), 0);
    colour(p.y_right.label_colour);
    if (!p.y_right.label.empty()) plmtex("r", 4.0, 0.5, 0.5, p.y_right.label.c_str());
  }
  plslabelfunc(nullptr, nullptr);
  colour(text_colour);
  if (!p.title.empty()) plmtex("t", 0.8, 0.0, 0.0, p.title.c_str());
  if (!p.note.empty()) {
    colour(note_colour);
    plptex(0.5 * (p.x.lo + p.x.hi), 0.5 * (p.y.lo + p.y.hi), 1, 0, 0.5, p.note.c_str());
  }
}

void draw_image(const FigureImage& im) {
  if (im.rows <= 0 || im.cols <= 0 || im.values.size() != static_cast<size_t>(im.rows) * static_cast<size_t>(im.cols))
    throw InputError("figure: an image's values do not match its size");
  if (!(std::isfinite(im.lo) && std::isfinite(im.hi) && im.lo < im.hi))
    throw InputError("figure: invalid intensity window of an image");
  plvpor(im.viewport.x0, im.viewport.x1, im.viewport.y0, im.viewport.y1);
  plwind(0, im.cols, 0, im.rows);
  // PLplot's image is indexed [column][row from the bottom].
  std::vector<PLFLT> data(im.values.size());
  std::vector<PLFLT*> columns(static_cast<size_t>(im.cols));
  for (int c = 0; c < im.cols; ++c) {
    columns[static_cast<size_t>(c)] = &data[static_cast<size_t>(c) * static_cast<size_t>(im.rows)];
    for (int r = 0; r < im.rows; ++r) {
      const double v = im.values[static_cast<size_t>(r) * static_cast<size_t>(im.cols) + static_cast<size_t>(c)];
      columns[static_cast<size_t>(c)][im.rows - 1 - r] = std::isnan(v) ? im.lo : std::clamp(v, im.lo, im.hi);
    }
  }
  plimagefr(columns.data(), im.cols, im.rows, 0, im.cols, 0, im.rows, im.lo, im.hi, im.lo, im.hi, nullptr, nullptr);
  colour(frame_colour);
  plbox("bc", 0, 0, "bc", 0, 0);
  colour(text_colour);
  if (!im.title.empty()) plmtex("t", 0.7, 0.5, 0.5, im.title.c_str());
}

void draw(const Figure& f) {
  plscmap1n(256);
  PLFLT at[2] = {0, 1}, level[2] = {0, 1};
  plscmap1l(1, 2, at, level, level, level, nullptr);  // black to white
  pladv(0);
  // Text of the same size in pixels on every page (PLplot's default scales with the page).
  PLFLT xmin = 0, xmax = 0, ymin = 0, ymax = 0;
  plgspa(&xmin, &xmax, &ymin, &ymax);  // the page in millimetres
  plschr(text_px * (xmax - xmin) / f.width, 1.0);
  for (const FigurePanel& p : f.panels) draw_panel(p);
  for (const FigureImage& im : f.images) draw_image(im);
}

}  // namespace

std::vector<unsigned char> render_figure(const Figure& figure) {
  if (figure.width < 16 || figure.height < 16 || figure.width > 16384 || figure.height > 16384)
    throw InputError("figure: invalid size " + std::to_string(figure.width) + " x " + std::to_string(figure.height));
  const size_t pixels = static_cast<size_t>(figure.width) * static_cast<size_t>(figure.height);
  std::vector<unsigned char> rgba(4 * pixels, 255);  // the driver draws over a white page
  try {
    Stream stream(figure.width, figure.height, rgba.data());
    draw(figure);
    stream.check();
  } catch (const PlplotFatal& e) {
    throw InputError(std::string("PLplot: ") + trimmed(e.what()));
  }
  std::vector<unsigned char> rgb(3 * pixels);
  for (size_t k = 0; k < pixels; ++k) std::memcpy(&rgb[3 * k], &rgba[4 * k], 3);
  return rgb;
}

void write_figure_png(const std::string& path, const Figure& figure) {
  const std::vector<unsigned char> rgb = render_figure(figure);
  const std::string tmp = path + ".tmp";
  std::error_code ec;
  try {
    write_png_rgb8(tmp, rgb, figure.width, figure.height);
  } catch (const InputError&) {
    if (!std::filesystem::is_directory(tmp, ec)) std::filesystem::remove(tmp, ec);
    throw InputError("cannot write PNG file '" + path + "'");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw InputError("cannot write PNG file '" + path + "' (cannot rename '" + tmp + "')");
  }
}

void write_figure_png(MPI_Comm comm, const std::string& path, const Figure& figure) {
  log::ScopedStage stage(log::stages().io);
  int rank = 0, ok = 1;
  MPI_Comm_rank(comm, &rank);
  std::string message = "cannot write the figure '" + path + "'";
  if (rank == 0) {
    try {
      write_figure_png(path, figure);
    } catch (const std::exception& e) {  // any failure: the verdict must reach every rank
      ok = 0;
      message = e.what();
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  require(ok == 1, message);
}

}  // namespace bilearn
