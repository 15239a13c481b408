#include "bilearn/io/history_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Page layout in pixels: margins, the title band above each panel and the gap between panels.
constexpr int left_px = 108, right_px = 84, top_px = 6, title_px = 26, gap_px = 14, bottom_px = 58;

// v padded with NaN (or cut) to n entries: index k belongs to step k.
std::vector<double> column(const std::vector<double>& v, size_t n) {
  std::vector<double> c(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), n)));
  c.resize(n, nan);
  return c;
}

// Axis coordinates of values: log10 on a log axis (NaN for values that cannot be drawn).
std::vector<double> coordinates(const std::vector<double>& v, bool log) {
  std::vector<double> c(v.size(), nan);
  for (size_t k = 0; k < v.size(); ++k)
    if (std::isfinite(v[k]) && (!log || v[k] > 0)) c[k] = log ? std::log10(v[k]) : v[k];
  return c;
}

// Smallest and largest non-NaN coordinate; false if there is none.
bool extent(const std::vector<double>& c, double* lo, double* hi) {
  *lo = std::numeric_limits<double>::infinity();
  *hi = -*lo;
  for (double v : c)
    if (!std::isnan(v)) {
      *lo = std::min(*lo, v);
      *hi = std::max(*hi, v);
    }
  return *lo <= *hi;
}

// A log axis over the drawable coordinates: 5 % margin each side (±0.05 decades when flat).
FigureAxis log_axis(const std::vector<double>& coords) {
  FigureAxis a;
  a.log = true;
  double lo, hi;
  if (!extent(coords, &lo, &hi)) {
    a.numbers = false;
    return a;
  }
  const double margin = hi > lo ? 0.05 * (hi - lo) : 0.05;
  a.lo = lo - margin;
  a.hi = hi + margin;
  return a;
}

// A count axis: from 0 (or the minimum, if negative) to the maximum plus 6 %.
FigureAxis count_axis(const std::vector<double>& coords) {
  FigureAxis a;
  double lo, hi;
  if (!extent(coords, &lo, &hi)) {
    a.numbers = false;
    return a;
  }
  a.lo = std::min(0.0, lo);
  a.hi = hi > 0 ? 1.06 * hi : 0.0;
  if (!(a.hi > a.lo)) a.hi = a.lo + 1;
  return a;
}

// The connected runs of drawable points (a NaN coordinate breaks the curve).
std::vector<FigureLine> runs(const std::vector<double>& x, const std::vector<double>& y, Colour colour, bool markers,
                             bool right_axis) {
  std::vector<FigureLine> lines;
  bool open = false;
  for (size_t k = 0; k < x.size(); ++k) {
    if (std::isnan(x[k]) || std::isnan(y[k])) {
      open = false;
      continue;
    }
    if (!open) lines.push_back({{}, {}, colour, markers, right_axis});
    lines.back().x.push_back(x[k]);
    lines.back().y.push_back(y[k]);
    open = true;
  }
  return lines;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

// "   step 12: 3.214e-05" for the last step ("" before the first one).
std::string latest(const std::vector<double>& steps, const std::string& values) {
  if (steps.empty()) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", steps.back());
  return std::string("     step ") + buf + ": " + values;
}

}  // namespace

Figure history_figure(const HistorySeries& s, int width, int height) {
  using namespace history_plot;
  Figure f;
  f.width = width;
  f.height = height;
  const size_t n = s.step.size();
  const std::vector<double> steps = coordinates(s.step, false);
  const std::vector<double> loss = column(s.upper_loss, n), grad = column(s.grad_norm, n),
                            krylov = column(s.krylov_iterations, n), lower = column(s.lower_iterations, n);
  const bool with_lower = !s.lower_iterations.empty();
  const std::vector<double> loss_c = coordinates(loss, true), grad_c = coordinates(grad, true),
                            krylov_c = coordinates(krylov, false), lower_c = coordinates(lower, false);

  FigureAxis x;
  double smin, smax;
  const bool any_step = extent(steps, &smin, &smax);
  if (any_step) {
    x.lo = smin - 0.5;
    x.hi = smax + 0.5;
  } else {
    x.numbers = false;
  }
  const int panel_px = std::max(1, (height - top_px - bottom_px - 3 * title_px - 2 * gap_px) / 3);
  const int plot_width_px = std::max(1, width - left_px - right_px);
  const bool markers = plot_width_px / (x.hi - x.lo) >= 12;  // points far enough apart to be told apart

  f.panels.resize(3);
  for (int i = 0; i < 3; ++i) {
    FigurePanel& p = f.panels[static_cast<size_t>(i)];
    const int top = top_px + title_px + i * (panel_px + title_px + gap_px);
    p.viewport = {static_cast<double>(left_px) / width, 1.0 - static_cast<double>(right_px) / width,
                  1.0 - static_cast<double>(top + panel_px) / height, 1.0 - static_cast<double>(top) / height};
    p.x = x;
    p.x.numbers = x.numbers && i == 2;
  }
  f.panels[2].x.label = "outer step";

  FigurePanel& pl = f.panels[0];
  pl.y = log_axis(loss_c);
  pl.title = "upper loss L (log scale)" + latest(s.step, number(loss.empty() ? nan : loss.back()));
  pl.lines = runs(steps, loss_c, loss_colour, markers, false);

  FigurePanel& pg = f.panels[1];
  pg.y = log_axis(grad_c);
  pg.title = "gradient norm ‖∇L‖ (log scale)" + latest(s.step, number(grad.empty() ? nan : grad.back()));
  pg.lines = runs(steps, grad_c, grad_colour, markers, false);

  FigurePanel& pk = f.panels[2];
  pk.y = count_axis(krylov_c);
  pk.y.label = "Krylov its (bars)";
  pk.y.label_colour = krylov_colour;
  FigureBars bars;
  bars.colour = krylov_colour;
  for (size_t k = 0; k < n; ++k)
    if (!std::isnan(steps[k]) && !std::isnan(krylov_c[k])) {
      bars.x.push_back(steps[k]);
      bars.y.push_back(krylov_c[k]);
    }
  bars.base = std::max(pk.y.lo, 0.0);
  if (!bars.x.empty()) pk.bars.push_back(bars);
  std::string values = "Krylov " + number(krylov.empty() ? nan : krylov.back());
  if (with_lower) {
    pk.has_right_axis = true;
    pk.y_right = count_axis(lower_c);
    pk.y_right.label = "lower-level its (line)";
    pk.y_right.label_colour = lower_colour;
    pk.lines = runs(steps, lower_c, lower_colour, markers, true);
    values += ", lower-level " + number(lower.empty() ? nan : lower.back());
  }
  pk.title = "iterations per step" + latest(s.step, values);

  for (FigurePanel& p : f.panels)
    if (!any_step || (p.lines.empty() && p.bars.empty())) p.note = "no data";
  return f;
}

void write_history_plot(const std::string& path, const HistorySeries& s, int width, int height) {
  write_figure_png(path, history_figure(s, width, height));
}

void write_history_plot(MPI_Comm comm, const std::string& path, const HistorySeries& s) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  write_figure_png(comm, path, rank == 0 ? history_figure(s) : Figure{});
}

}  // namespace bilearn
