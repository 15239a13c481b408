// history.png and its parts: nice ticks on linear and log axes, tick labels, the bitmap
// font, the raster canvas, and the rendered plot written as PNG and read back (size, the
// series colours inside their panels, NaN/zero values on log axes, "no data", unwritable
// paths). Rank-local except the collective writer.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "bilearn/core/error.hpp"
#include "bilearn/io/bitmap_font.hpp"
#include "bilearn/io/history_plot.hpp"
#include "bilearn/io/plot_axis.hpp"
#include "bilearn/io/png.hpp"
#include "bilearn/io/raster.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace bilearn_test;

namespace {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

std::vector<double> labelled(const Axis& a) {
  std::vector<double> at;
  for (const AxisTick& t : a.ticks)
    if (!t.label.empty()) at.push_back(t.at);
  return at;
}

std::vector<std::string> labels(const Axis& a) {
  std::vector<std::string> l;
  for (const AxisTick& t : a.ticks)
    if (!t.label.empty()) l.push_back(t.label);
  return l;
}

size_t count_colour(const Canvas& c, const PixelRect& r, Rgb colour) {
  size_t n = 0;
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) n += c.pixel(x, y) == colour;
  return n;
}

// Pixels that are neither white nor one of the frame/grid greys: ink of text or curves.
size_t count_dark(const Canvas& c, const PixelRect& r) {
  size_t n = 0;
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) {
      const Rgb p = c.pixel(x, y);
      n += p.r < 200 && p.g < 200 && p.b < 200;
    }
  return n;
}

PixelRect inner(const PixelRect& r) {
  return {r.x0 + 1, r.y0 + 1, r.x1 - 1, r.y1 - 1};
}

// The middle of a panel, where "no data" is written.
PixelRect centre(const PixelRect& r) {
  return {r.x0 + r.width() / 3, r.y0 + r.height() / 3, r.x1 - r.width() / 3, r.y1 - r.height() / 3};
}

HistorySeries known_series(int steps) {
  HistorySeries s;
  for (int k = 1; k <= steps; ++k) {
    s.step.push_back(k);
    s.upper_loss.push_back(0.5 * std::pow(0.8, k));
    s.grad_norm.push_back(3e-2 * std::pow(0.6, k));
    s.krylov_iterations.push_back(40 + (k % 5) * 3);
    s.lower_iterations.push_back(12 - k % 4);
  }
  return s;
}

class PlotFileTest : public ScratchDirTest {
 protected:
  PlotFileTest() : ScratchDirTest("plot") {}
};

}  // namespace

TEST(PlotAxis, NiceTicksOnLinearRanges) {
  double step = 0;
  EXPECT_EQ(nice_ticks(0, 10, 5, 0, &step), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_DOUBLE_EQ(step, 2);
  const std::vector<double> t = nice_ticks(0.13, 0.87, 5, 0, &step);
  EXPECT_DOUBLE_EQ(step, 0.2);
  ASSERT_EQ(t.size(), 4u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.2 * (i + 1), 1e-12);
  EXPECT_EQ(nice_ticks(-0.5, 3.5, 10, 1, &step), (std::vector<double>{0, 1, 2, 3}));  // integer steps only
  EXPECT_DOUBLE_EQ(step, 1);
  EXPECT_EQ(nice_ticks(0.5, 1000.5, 8, 1, &step).front(), 200);
  EXPECT_DOUBLE_EQ(step, 200);
  EXPECT_EQ(nice_ticks(-1, 1, 4, 0, &step), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_FALSE(std::signbit(nice_ticks(-1, 1, 4, 0)[2]));  // no "-0"
  EXPECT_TRUE(nice_ticks(1, 1, 5, 0).empty());
  EXPECT_TRUE(nice_ticks(NaN, 1, 5, 0).empty());
}

TEST(PlotAxis, TickLabelsAndShortNumbers) {
  EXPECT_EQ(tick_label(0.25, 0.05), "0.25");
  EXPECT_EQ(tick_label(0.4, 0.2), "0.4");
  EXPECT_EQ(tick_label(-0.4, 0.2), "-0.4");
  EXPECT_EQ(tick_label(0, 0.2), "0");
  EXPECT_EQ(tick_label(2000, 500), "2000");
  EXPECT_EQ(tick_label(1e-3, 1e-3), "1e-3");
  EXPECT_EQ(tick_label(4.5e-7, 5e-8), "4.5e-7");
  EXPECT_EQ(tick_label(1e6, 1e6), "1e6");
  EXPECT_EQ(tick_label(0.01, 0.01), "0.01");
  EXPECT_EQ(tick_label(0.01, 0.01, true), "1e-2");
  EXPECT_EQ(tick_label(0.015, 0.001, true), "1.5e-2");
  EXPECT_EQ(short_number(3.21412e-5), "3.214e-5");
  EXPECT_EQ(short_number(42), "42");
  EXPECT_EQ(short_number(0.0125), "0.0125");
  EXPECT_EQ(short_number(1.5e12), "1.5e12");
  EXPECT_EQ(short_number(5.19234e-4), "5.192e-4");
  EXPECT_EQ(short_number(-5e-4), "-5e-4");
  EXPECT_EQ(short_number(0), "0");
  EXPECT_EQ(short_number(12, 9), "12");
  EXPECT_EQ(short_number(12345), "1.234e4");
  EXPECT_EQ(short_number(NaN), "nan");
  EXPECT_EQ(short_number(-inf), "-inf");
}

TEST(PlotAxis, LogAxisUsesDecadesAndIgnoresUndrawableValues) {
  const Axis a = log_axis({1e-4, NaN, 0.0, -3.0, inf, 1e-1});
  EXPECT_TRUE(a.log);
  EXPECT_FALSE(a.empty);
  EXPECT_NEAR(a.lo, -4.15, 1e-12);
  EXPECT_NEAR(a.hi, -0.85, 1e-12);
  EXPECT_EQ(labelled(a), (std::vector<double>{-4, -3, -2, -1}));
  EXPECT_EQ(labels(a), (std::vector<std::string>{"1e-4", "1e-3", "1e-2", "1e-1"}));  // one notation
  size_t minor = 0;
  for (const AxisTick& t : a.ticks) {
    EXPECT_GE(t.at, a.lo);
    EXPECT_LE(t.at, a.hi);
    minor += t.label.empty();
  }
  EXPECT_EQ(minor, 2u + 8 * 3);  // 8e-5, 9e-5, then 2…9 × 1e-4, 1e-3, 1e-2
  EXPECT_TRUE(std::isnan(a.coordinate(0)));
  EXPECT_TRUE(std::isnan(a.coordinate(-1)));
  EXPECT_TRUE(std::isnan(a.fraction(NaN)));
  EXPECT_NEAR(a.fraction(1e-4), 0.15 / 3.3, 1e-12);
}

TEST(PlotAxis, LogAxisWithinADecadeAndDegenerateData) {
  const Axis a = log_axis({0.12, 0.2, 0.35});
  EXPECT_FALSE(a.empty);
  EXPECT_EQ(labels(a), (std::vector<std::string>{"0.15", "0.2", "0.25"}));
  const Axis b = log_axis({4.6e-3, 0.016});  // less than a decade: nice values, evenly spread in log
  EXPECT_EQ(labels(b), (std::vector<std::string>{"5e-3", "7e-3", "1e-2", "1.5e-2"}));
  for (const AxisTick& t : a.ticks) {
    EXPECT_FALSE(t.label.empty());
    EXPECT_GE(t.at, a.lo);
    EXPECT_LE(t.at, a.hi);
  }
  const Axis flat = log_axis({5, 5, 5});
  EXPECT_NEAR(flat.hi - flat.lo, 0.1, 1e-12);
  EXPECT_FALSE(flat.ticks.empty());
  EXPECT_TRUE(log_axis({NaN, 0, -1, inf}).empty);
  EXPECT_TRUE(log_axis({}).empty);
  EXPECT_TRUE(log_axis({}).ticks.empty());
  const Axis wide = log_axis({1e-30, 1e10});  // 40 decades: every few labelled, marks at the others
  EXPECT_LE(labelled(wide).size(), 8u);
  EXPECT_GE(wide.ticks.size(), 40u);
  for (const AxisTick& t : wide.ticks) EXPECT_EQ(t.at, std::round(t.at));
}

TEST(PlotAxis, CountAndStepAxes) {
  const Axis c = count_axis({3, 10, NaN, 7}, true);
  EXPECT_FALSE(c.empty);
  EXPECT_EQ(c.lo, 0);
  EXPECT_NEAR(c.hi, 10.6, 1e-12);
  EXPECT_EQ(labelled(c), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const Axis zero = count_axis({0, 0}, true);
  EXPECT_EQ(zero.lo, 0);
  EXPECT_EQ(zero.hi, 1);
  EXPECT_EQ(labelled(zero), (std::vector<double>{0, 1}));  // never 0.2 iterations
  EXPECT_TRUE(count_axis({NaN}, true).empty);
  const Axis s = step_axis({1, 2, 3});
  EXPECT_EQ(s.lo, 0.5);
  EXPECT_EQ(s.hi, 3.5);
  EXPECT_EQ(labels(s), (std::vector<std::string>{"1", "2", "3"}));
  const Axis one = step_axis({7});
  EXPECT_EQ(labels(one), (std::vector<std::string>{"7"}));
  EXPECT_TRUE(step_axis({}).empty);
}

TEST(BitmapFont, EveryGlyphIsFiveBySevenInk) {
  const std::string chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,-+|():/=_%'[]<>*^#";
  for (char ch : chars) {
    const font::Glyph* g = font::find_glyph(ch);
    ASSERT_NE(g, nullptr) << "no glyph for '" << ch << "'";
    EXPECT_EQ(g->ch, ch);
    int ink = 0;
    for (const char* row : g->rows) {
      ASSERT_EQ(std::strlen(row), static_cast<size_t>(font::glyph_width)) << "'" << ch << "'";
      for (int i = 0; i < font::glyph_width; ++i) {
        EXPECT_TRUE(row[i] == '#' || row[i] == ' ') << "'" << ch << "'";
        ink += row[i] == '#';
      }
    }
    EXPECT_EQ(ink == 0, ch == ' ') << "'" << ch << "'";
  }
  EXPECT_EQ(font::find_glyph('\x01'), nullptr);
  EXPECT_EQ(font::find_glyph('\xe2'), nullptr);
  EXPECT_EQ(font::find_glyph('g')->kind, font::descender);
  EXPECT_EQ(font::find_glyph('|')->kind, font::tall);
}

TEST(Raster, DrawingIsClippedAndTextHasTheFontMetrics) {
  const Rgb white{255, 255, 255}, red{255, 0, 0};
  Canvas c(40, 30, white);
  EXPECT_EQ(c.rgb().size(), 40u * 30 * 3);
  c.set_clip({10, 10, 20, 20});
  c.fill_rect({0, 0, 40, 30}, red);
  EXPECT_EQ(count_colour(c, {0, 0, 40, 30}, red), 100u);
  c.reset_clip();
  c.line(-1e9, 5, 1e9, 5, red, 1);  // huge coordinates are clipped, not walked
  EXPECT_EQ(count_colour(c, {0, 5, 40, 6}, red), 40u);
  c.line(NaN, 0, 3, 3, red, 3);  // ignored
  EXPECT_EQ(c.pixel(-1, -1), white);
  EXPECT_EQ(c.pixel(100, 2), white);
  Canvas t(100, 20, white);
  t.text(2, 2, "Ag|", red, 1);
  const PixelRect all{0, 0, 100, 20};
  EXPECT_GT(count_colour(t, all, red), 20u);
  int bottom = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 100; ++x)
      if (t.pixel(x, y) == red) bottom = std::max(bottom, y);
  EXPECT_EQ(bottom, 2 + Canvas::line_height(1) - 1);  // descender and tall glyph reach the last row
  EXPECT_EQ(Canvas::text_width("abc", 2), 2 * (3 * font::advance - 1));
  EXPECT_EQ(Canvas::text_width("", 2), 0);
  EXPECT_EQ(Canvas::cap_height(2), 14);
  Canvas unknown(20, 20, white);
  unknown.text(0, 0, "\x01", red, 1);  // a small box
  EXPECT_GT(count_colour(unknown, {0, 0, 20, 20}, red), 0u);
}

TEST(HistoryPlot, PanelsAreStackedAndShareTheXRange) {
  const auto p = history_plot_panels(history_plot::default_width, history_plot::default_height);
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(p[i].width(), 600);
    EXPECT_GT(p[i].height(), 150);
    EXPECT_EQ(p[i].x0, p[0].x0);
    EXPECT_EQ(p[i].x1, p[0].x1);
    if (i > 0) {
      EXPECT_GT(p[i].y0, p[i - 1].y1);
    }
  }
  EXPECT_LT(p[2].y1, history_plot::default_height - 30);  // room for the x labels
}

TEST(HistoryPlot, SeriesColoursAreDrawnInTheirPanels) {
  using namespace history_plot;
  const HistorySeries s = known_series(30);
  const Canvas c = render_history_plot(s);
  EXPECT_EQ(c.width(), default_width);
  EXPECT_EQ(c.height(), default_height);
  const auto p = history_plot_panels(c.width(), c.height());
  EXPECT_GT(count_colour(c, inner(p[0]), loss_colour), 300u);
  EXPECT_EQ(count_colour(c, inner(p[1]), loss_colour), 0u);
  EXPECT_EQ(count_colour(c, inner(p[2]), loss_colour), 0u);
  EXPECT_GT(count_colour(c, inner(p[1]), grad_colour), 300u);
  EXPECT_EQ(count_colour(c, inner(p[0]), grad_colour), 0u);
  EXPECT_GT(count_colour(c, inner(p[2]), krylov_colour), 30u * 20);  // 30 bars
  EXPECT_GT(count_colour(c, inner(p[2]), lower_colour), 100u);
  EXPECT_EQ(count_colour(c, centre(p[0]), Rgb{150, 150, 150}), 0u);  // no "no data"
  // The loss decreases: its ink is high on the left and low on the right of panel 1.
  auto mean_row = [&](int x0, int x1) {
    double sum = 0, n = 0;
    for (int y = p[0].y0; y < p[0].y1; ++y)
      for (int x = x0; x < x1; ++x)
        if (c.pixel(x, y) == loss_colour) sum += y, ++n;
    return n > 0 ? sum / n : NaN;
  };
  EXPECT_LT(mean_row(p[0].x0, p[0].x0 + 60), mean_row(p[0].x1 - 60, p[0].x1));
  // Tick labels left of the panels, the x labels below the last one.
  EXPECT_GT(count_dark(c, {0, p[0].y0, p[0].x0 - 3, p[0].y1}), 50u);
  EXPECT_GT(count_dark(c, {p[2].x0, p[2].y1 + 3, p[2].x1, c.height()}), 50u);
  // Without lower-level iterations no line is drawn.
  HistorySeries no_lower = s;
  no_lower.lower_iterations.clear();
  EXPECT_EQ(count_colour(render_history_plot(no_lower), inner(p[2]), lower_colour), 0u);
}

TEST(HistoryPlot, UndrawableValuesAreSkippedAndEmptyPanelsSayNoData) {
  using namespace history_plot;
  const Rgb muted{150, 150, 150};
  HistorySeries s = known_series(12);
  s.upper_loss = {NaN, 0, -1, inf, NaN, 0, 0, 0, NaN, NaN, -2, 0};  // nothing drawable on a log axis
  s.grad_norm[3] = 0;                                               // gaps in an otherwise fine series
  s.grad_norm[4] = NaN;
  s.grad_norm[7] = -1;
  s.krylov_iterations.resize(5);  // shorter than step: missing at the end
  const Canvas c = render_history_plot(s);
  const auto p = history_plot_panels(c.width(), c.height());
  EXPECT_EQ(count_colour(c, inner(p[0]), loss_colour), 0u);
  EXPECT_GT(count_colour(c, centre(p[0]), muted), 20u);  // "no data"
  EXPECT_GT(count_colour(c, inner(p[1]), grad_colour), 100u);
  EXPECT_EQ(count_colour(c, centre(p[1]), muted), 0u);
  EXPECT_GT(count_colour(c, inner(p[2]), krylov_colour), 0u);

  const Canvas empty = render_history_plot(HistorySeries{});  // a run before its first step
  for (const PixelRect& r : p) {
    EXPECT_GT(count_colour(empty, centre(r), muted), 20u);
    EXPECT_EQ(count_colour(empty, inner(r), loss_colour), 0u);
  }
  const Canvas tiny = render_history_plot(known_series(3), 120, 90);  // tiny sizes still draw
  EXPECT_EQ(tiny.width(), 120);
}

TEST_F(PlotFileTest, WrittenPngReadsBackAsTheCanvas) {
  const HistorySeries s = known_series(40);
  const std::string file = path("history.png");
  write_history_plot(PETSC_COMM_WORLD, file, s);  // collective: rank 0 writes
  if (world_rank() == 0) {
    const auto t0 = std::chrono::steady_clock::now();
    const Canvas c = render_history_plot(s);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    int w = 0, h = 0;
    const std::vector<unsigned char> rgb = read_png_rgb8(file, &w, &h);
    EXPECT_EQ(w, history_plot::default_width);
    EXPECT_EQ(h, history_plot::default_height);
    EXPECT_TRUE(rgb == c.rgb());
    EXPECT_FALSE(std::filesystem::exists(file + ".tmp"));
    const auto p = history_plot_panels(w, h);
    size_t loss_pixels = 0;
    for (int y = p[0].y0 + 1; y < p[0].y1 - 1; ++y)
      for (int x = p[0].x0 + 1; x < p[0].x1 - 1; ++x) {
        const unsigned char* q = &rgb[3 * (static_cast<size_t>(y) * w + x)];
        loss_pixels += Rgb{q[0], q[1], q[2]} == history_plot::loss_colour;
      }
    EXPECT_GT(loss_pixels, 300u);
    std::printf("history.png %dx%d, %ju bytes, rendered in %.1f ms\n", w, h,
                static_cast<uintmax_t>(std::filesystem::file_size(file)), ms);
    // Redrawing replaces the file.
    write_history_plot(file, known_series(3), 300, 200);
    read_png_rgb8(file, &w, &h);
    EXPECT_EQ(w, 300);
  }
}

TEST_F(PlotFileTest, UnwritablePathIsAnInputErrorOnEveryRank) {
  const HistorySeries s = known_series(5);
  EXPECT_THROW(write_history_plot(PETSC_COMM_WORLD, path("missing/dir/history.png"), s), InputError);
  EXPECT_THROW(write_history_plot(PETSC_COMM_WORLD, dir_, s), InputError);  // a directory
  if (world_rank() == 0) {
    EXPECT_THROW(write_canvas_png(path("none/x.png"), Canvas(4, 4, Rgb{})), InputError);
    EXPECT_FALSE(std::filesystem::exists(path("none/x.png.tmp")));
    int w = 0, h = 0;
    EXPECT_THROW(read_png_rgb8(path("absent.png"), &w, &h), InputError);
  }
}
