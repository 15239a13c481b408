#include "bilearn/io/history_plot.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bilearn/core/error.hpp"
#include "bilearn/io/bitmap_font.hpp"
#include "bilearn/io/plot_axis.hpp"

namespace bilearn {
namespace {

constexpr Rgb background{255, 255, 255};
constexpr Rgb frame_colour{90, 90, 90};
constexpr Rgb grid_colour{228, 228, 228};
constexpr Rgb muted_colour{150, 150, 150};

// Font scale and margins of a width × height plot.
struct Layout {
  int scale, left, right, top, title_band, gap, bottom;
  explicit Layout(int width, int height)
      : scale(width >= 600 && height >= 480 ? 2 : 1),
        left(9 * font::advance * scale + 8),
        right(8 * scale + 4),
        top(3 * scale),
        title_band(Canvas::line_height(scale) + 4 * scale),
        gap(4 * scale),
        bottom(2 * Canvas::line_height(scale) + 8 * scale) {}
  int tick_length() const { return 2 * scale + 1; }
};

// A piece of a panel title in its own colour (the series colours double as the legend).
struct TitlePart {
  std::string text;
  Rgb colour;
};

// v padded with NaN (or cut) to n entries: index k belongs to step k.
std::vector<double> column(const std::vector<double>& v, size_t n) {
  std::vector<double> c(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), n)));
  c.resize(n, std::numeric_limits<double>::quiet_NaN());
  return c;
}

// Pixel positions of axis coordinates inside a data rectangle.
struct PanelMap {
  PixelRect r;
  const Axis& x;
  const Axis& y;
  double px(double value) const { return r.x0 + x.fraction(value) * (r.width() - 1); }
  double py(double value) const { return r.y1 - 1 - y.fraction(value) * (r.height() - 1); }
  double px_at(double coord) const { return r.x0 + (coord - x.lo) / (x.hi - x.lo) * (r.width() - 1); }
  double py_at(double coord) const { return r.y1 - 1 - (coord - y.lo) / (y.hi - y.lo) * (r.height() - 1); }
};

// Grid lines, frame and tick marks of one panel; y tick labels left of it; x tick labels
// and the x axis title below it when `x_labels`.
void draw_axes(Canvas& c, const PanelMap& m, const Layout& L, bool x_labels) {
  const int cap = Canvas::cap_height(L.scale);
  for (const AxisTick& t : m.y.ticks)
    if (!t.label.empty()) c.line(m.r.x0, m.py_at(t.at), m.r.x1 - 1, m.py_at(t.at), grid_colour);
  for (const AxisTick& t : m.x.ticks) c.line(m.px_at(t.at), m.r.y0, m.px_at(t.at), m.r.y1 - 1, grid_colour);
  int last_label_top = std::numeric_limits<int>::max();  // y labels upwards; skip overlapping ones
  for (const AxisTick& t : m.y.ticks) {
    const int y = static_cast<int>(std::lround(m.py_at(t.at)));
    const int len = t.label.empty() ? L.tick_length() / 2 + 1 : L.tick_length();
    c.fill_rect({m.r.x0 - len, y, m.r.x0, y + 1}, frame_colour);
    const int top = y - cap / 2;
    if (t.label.empty() || top + cap + L.scale > last_label_top) continue;
    c.text(m.r.x0 - L.tick_length() - 2 * L.scale - Canvas::text_width(t.label, L.scale), top, t.label,
           history_plot::text_colour, L.scale);
    last_label_top = top;
  }
  int last_label_right = std::numeric_limits<int>::min();
  for (const AxisTick& t : m.x.ticks) {
    const int x = static_cast<int>(std::lround(m.px_at(t.at)));
    c.fill_rect({x, m.r.y1, x + 1, m.r.y1 + L.tick_length()}, frame_colour);
    const int w = Canvas::text_width(t.label, L.scale), left = x - w / 2;
    if (!x_labels || left < last_label_right + 3 * font::advance * L.scale / 2) continue;
    c.text(left, m.r.y1 + L.tick_length() + 2 * L.scale, t.label, history_plot::text_colour, L.scale);
    last_label_right = left + w;
  }
  if (x_labels) {
    const std::string title = "outer step";
    c.text(m.r.x0 + (m.r.width() - Canvas::text_width(title, L.scale)) / 2,
           m.r.y1 + L.tick_length() + 3 * L.scale + Canvas::line_height(L.scale), title, history_plot::text_colour,
           L.scale);
  }
  c.frame_rect(m.r, frame_colour);
}

void draw_title(Canvas& c, const PixelRect& r, const Layout& L, const std::vector<TitlePart>& parts) {
  int x = r.x0;
  const int y = r.y0 - L.title_band + 2 * L.scale;
  for (const TitlePart& p : parts) {
    c.text(x, y, p.text, p.colour, L.scale);
    x += static_cast<int>(p.text.size()) * font::advance * L.scale;
  }
}

void draw_no_data(Canvas& c, const PixelRect& r, const Layout& L) {
  const std::string s = "no data";
  c.text(r.x0 + (r.width() - Canvas::text_width(s, L.scale)) / 2, r.y0 + (r.height() - Canvas::cap_height(L.scale)) / 2,
         s, muted_colour, L.scale);
}

// A polyline through the drawable points (a gap in the data breaks it), with dots when the
// points are far enough apart to be told apart.
void draw_line_series(Canvas& c, const PanelMap& m, const std::vector<double>& steps, const std::vector<double>& ys,
                      Rgb colour, int scale) {
  const bool dots = static_cast<double>(m.r.width()) / std::max<double>(1.0, m.x.hi - m.x.lo) >= 6.0 * scale;
  double px0 = std::numeric_limits<double>::quiet_NaN(), py0 = px0;
  for (size_t k = 0; k < steps.size(); ++k) {
    const double px = m.px(steps[k]), py = m.py(ys[k]);
    if (std::isnan(px) || std::isnan(py)) {
      px0 = py0 = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    if (!std::isnan(px0)) c.line(px0, py0, px, py, colour, scale);
    if (dots) c.dot(px, py, scale + 1, colour);
    px0 = px;
    py0 = py;
  }
}

void draw_bars(Canvas& c, const PanelMap& m, const std::vector<double>& steps, const std::vector<double>& ys,
               Rgb colour, int scale) {
  const double spacing = (m.r.width() - 1) / std::max(1e-12, m.x.hi - m.x.lo);  // pixels per step
  const double half = std::clamp(0.35 * spacing, 0.5, 12.0 * scale);
  const double base = m.py_at(std::max(m.y.lo, 0.0));
  for (size_t k = 0; k < steps.size(); ++k) {
    const double px = m.px(steps[k]), py = m.py(ys[k]);
    if (std::isnan(px) || std::isnan(py)) continue;
    const int x0 = static_cast<int>(std::lround(px - half)),
              x1 = std::max(x0 + 1, static_cast<int>(std::lround(px + half)));
    const int top = static_cast<int>(std::lround(std::min(py, base))),
              bottom = static_cast<int>(std::lround(std::max(py, base)));
    c.fill_rect({x0, top, x1, bottom + 1}, colour);
  }
}

// " step 12: 3.214e-5" for the last step (empty if there is none).
std::string latest(const std::vector<double>& steps, const std::vector<std::vector<double>>& columns) {
  if (steps.empty()) return "";
  std::string s = "  step " + short_number(steps.back(), 9) + ":";
  for (size_t i = 0; i < columns.size(); ++i) s += (i ? " /" : "") + std::string(" ") + short_number(columns[i].back());
  return s;
}

}  // namespace

std::array<PixelRect, 3> history_plot_panels(int width, int height) {
  const Layout L(width, height);
  const int h = std::max(1, (height - L.top - L.bottom - 3 * L.title_band - 2 * L.gap) / 3);
  std::array<PixelRect, 3> panels;
  int y = L.top;
  for (PixelRect& r : panels) {
    y += L.title_band;
    r = {L.left, y, std::max(L.left + 1, width - L.right), y + h};
    y += h + L.gap;
  }
  return panels;
}

Canvas render_history_plot(const HistorySeries& s, int width, int height) {
  using namespace history_plot;
  const Layout L(width, height);
  Canvas c(width, height, background);
  const std::array<PixelRect, 3> panels = history_plot_panels(c.width(), c.height());
  const size_t n = s.step.size();
  const std::vector<double> loss = column(s.upper_loss, n), grad = column(s.grad_norm, n),
                            krylov = column(s.krylov_iterations, n), lower = column(s.lower_iterations, n);
  const bool with_lower = !s.lower_iterations.empty();
  std::vector<double> counts(krylov);
  if (with_lower) counts.insert(counts.end(), lower.begin(), lower.end());

  const Axis x = step_axis(s.step);
  const Axis y[3] = {log_axis(loss), log_axis(grad), count_axis(counts, true)};
  std::vector<TitlePart> titles[3] = {
      {{"upper loss L", loss_colour}, {" (log y)" + latest(s.step, {loss}), text_colour}},
      {{"|grad L|", grad_colour}, {" (log y)" + latest(s.step, {grad}), text_colour}},
      {{"Krylov its (bars)", krylov_colour}}};
  if (with_lower) {
    titles[2].push_back({" / ", text_colour});
    titles[2].push_back({"lower-level its (line)", lower_colour});
  }
  titles[2].push_back({latest(s.step, with_lower ? std::vector<std::vector<double>>{krylov, lower}
                                                 : std::vector<std::vector<double>>{krylov}),
                       text_colour});

  for (int p = 0; p < 3; ++p) {
    const PanelMap m{panels[p], x, y[p]};
    draw_axes(c, m, L, p == 2);
    draw_title(c, panels[p], L, titles[p]);
    if (x.empty || y[p].empty) {
      draw_no_data(c, panels[p], L);
      continue;
    }
    c.set_clip(panels[p]);
    if (p == 0) draw_line_series(c, m, s.step, loss, loss_colour, L.scale);
    if (p == 1) draw_line_series(c, m, s.step, grad, grad_colour, L.scale);
    if (p == 2) {
      draw_bars(c, m, s.step, krylov, krylov_colour, L.scale);
      if (with_lower) draw_line_series(c, m, s.step, lower, lower_colour, L.scale);
    }
    c.reset_clip();
    c.frame_rect(panels[p], frame_colour);  // over the curves' ends
  }
  return c;
}

void write_history_plot(const std::string& path, const HistorySeries& s, int width, int height) {
  write_canvas_png(path, render_history_plot(s, width, height));
}

void write_history_plot(MPI_Comm comm, const std::string& path, const HistorySeries& s) {
  int rank = 0, ok = 1;
  MPI_Comm_rank(comm, &rank);
  std::string message = "cannot write the history plot '" + path + "'";
  if (rank == 0) {
    try {
      write_history_plot(path, s);
    } catch (const std::exception& e) {  // any failure: the verdict must reach every rank
      ok = 0;
      message = e.what();
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  require(ok == 1, message);
}

}  // namespace bilearn
