// Figures drawn by PLplot (history.png, reconstructions.png): the data each builder hands to
// PLplot (panels, axis ranges, the points of every curve and bar, images, intensity windows,
// titles), and the files: a PNG of the figure's size that reads back as the rendering, written
// atomically (no temporary file left, a previous file intact on failure), bad figures and
// unwritable paths as one InputError with nothing printed. Rank-local except the collective
// writers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "bilearn/core/error.hpp"
#include "bilearn/io/figure.hpp"
#include "bilearn/io/history_plot.hpp"
#include "bilearn/io/png.hpp"
#include "bilearn/io/reconstruction_figure.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace bilearn_test;
namespace fs = std::filesystem;

namespace {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

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

std::vector<double> log10_of(const std::vector<double>& v) {
  std::vector<double> c;
  for (double x : v) c.push_back(std::log10(x));
  return c;
}

// All points of a panel's lines on one side, in order.
std::vector<double> line_ys(const FigurePanel& p, bool right_axis = false) {
  std::vector<double> y;
  for (const FigureLine& l : p.lines)
    if (l.right_axis == right_axis) y.insert(y.end(), l.y.begin(), l.y.end());
  return y;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Pixels of an RGB image inside a viewport (fractions, y up) that are not white.
size_t ink(const std::vector<unsigned char>& rgb, int w, int h, const Viewport& v) {
  size_t n = 0;
  for (int y = static_cast<int>((1 - v.y1) * h) + 2; y < static_cast<int>((1 - v.y0) * h) - 2; ++y)
    for (int x = static_cast<int>(v.x0 * w) + 2; x < static_cast<int>(v.x1 * w) - 2; ++x) {
      const unsigned char* p = &rgb[3 * (static_cast<size_t>(y) * w + x)];
      n += p[0] < 250 || p[1] < 250 || p[2] < 250;
    }
  return n;
}

ReconstructionRow known_row(int sample, int n) {
  std::vector<double> truth(static_cast<size_t>(n) * n), initial(truth.size()), learned(truth.size());
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c) {
      const size_t k = static_cast<size_t>(r) * n + c;
      truth[k] = (r > n / 4 && r < 3 * n / 4 && c > n / 4 && c < 3 * n / 4) ? 1.0 : 0.0;
      initial[k] = truth[k] + 0.2 * std::sin(0.7 * r + 1.3 * c);
      learned[k] = truth[k] + 0.05 * std::sin(0.7 * r + 1.3 * c);
    }
  ReconstructionRow row;
  row.sample = sample;
  row.truth = reduced_image(truth, n, n, reconstruction_tile);
  row.initial = reduced_image(initial, n, n, reconstruction_tile);
  row.learned = reduced_image(learned, n, n, reconstruction_tile);
  row.psnr_initial = 21.374;
  row.psnr_learned = 25.0812;
  return row;
}

class PlotFileTest : public ScratchDirTest {
 protected:
  PlotFileTest() : ScratchDirTest("plot") {}
};

}  // namespace

TEST(HistoryFigure, ThreePanelsShareTheStepAxis) {
  const Figure f = history_figure(known_series(30));
  EXPECT_EQ(f.width, history_plot::default_width);
  EXPECT_EQ(f.height, history_plot::default_height);
  ASSERT_EQ(f.panels.size(), 3u);
  EXPECT_TRUE(f.images.empty());
  for (size_t i = 0; i < 3; ++i) {
    const FigurePanel& p = f.panels[i];
    EXPECT_EQ(p.x.lo, 0.5);
    EXPECT_EQ(p.x.hi, 30.5);
    EXPECT_EQ(p.viewport.x0, f.panels[0].viewport.x0);
    EXPECT_EQ(p.viewport.x1, f.panels[0].viewport.x1);
    EXPECT_GT((p.viewport.y1 - p.viewport.y0) * f.height, 150);
    EXPECT_GT((p.viewport.x1 - p.viewport.x0) * f.width, 600);
    EXPECT_EQ(p.x.numbers, i == 2);  // step numbers under the last panel only
    EXPECT_TRUE(p.note.empty());
    if (i > 0) {
      EXPECT_LT(p.viewport.y1, f.panels[i - 1].viewport.y0);  // stacked top to bottom
    }
  }
  EXPECT_EQ(f.panels[2].x.label, "outer step");
  EXPECT_GT(f.panels[2].viewport.y0 * f.height, 30);  // room for the step numbers
}

TEST(HistoryFigure, CurvesAndBarsAreTheSeries) {
  using namespace history_plot;
  const HistorySeries s = known_series(30);
  const Figure f = history_figure(s);
  // Upper loss and gradient norm: one line each through every step, log10 of the values.
  const FigurePanel& loss = f.panels[0];
  EXPECT_TRUE(loss.y.log);
  ASSERT_EQ(loss.lines.size(), 1u);
  EXPECT_EQ(loss.lines[0].x, s.step);
  EXPECT_EQ(loss.lines[0].y, log10_of(s.upper_loss));
  EXPECT_EQ(loss.lines[0].colour, loss_colour);
  EXPECT_FALSE(loss.lines[0].right_axis);
  const double lmax = std::log10(s.upper_loss.front()), lmin = std::log10(s.upper_loss.back());
  EXPECT_NEAR(loss.y.lo, lmin - 0.05 * (lmax - lmin), 1e-12);  // 5 % margin each side
  EXPECT_NEAR(loss.y.hi, lmax + 0.05 * (lmax - lmin), 1e-12);
  EXPECT_TRUE(ends_with(loss.title, "step 30: 0.000619")) << loss.title;
  const FigurePanel& grad = f.panels[1];
  EXPECT_TRUE(grad.y.log);
  ASSERT_EQ(grad.lines.size(), 1u);
  EXPECT_EQ(grad.lines[0].y, log10_of(s.grad_norm));
  EXPECT_EQ(grad.lines[0].colour, grad_colour);
  EXPECT_LT(grad.y.lo, *std::min_element(grad.lines[0].y.begin(), grad.lines[0].y.end()));
  EXPECT_GT(grad.y.hi, *std::max_element(grad.lines[0].y.begin(), grad.lines[0].y.end()));
  // Iterations: Krylov bars on the left axis from 0, lower-level line on the right-hand one.
  const FigurePanel& its = f.panels[2];
  EXPECT_FALSE(its.y.log);
  ASSERT_EQ(its.bars.size(), 1u);
  EXPECT_EQ(its.bars[0].x, s.step);
  EXPECT_EQ(its.bars[0].y, s.krylov_iterations);
  EXPECT_EQ(its.bars[0].base, 0);
  EXPECT_EQ(its.bars[0].colour, krylov_colour);
  EXPECT_EQ(its.y.lo, 0);
  EXPECT_NEAR(its.y.hi, 1.06 * 52, 1e-12);
  ASSERT_TRUE(its.has_right_axis);
  EXPECT_EQ(its.y_right.lo, 0);
  EXPECT_NEAR(its.y_right.hi, 1.06 * 12, 1e-12);
  EXPECT_EQ(its.y_right.label_colour, lower_colour);
  EXPECT_EQ(its.y.label_colour, krylov_colour);
  ASSERT_EQ(its.lines.size(), 1u);
  EXPECT_TRUE(its.lines[0].right_axis);
  EXPECT_EQ(its.lines[0].x, s.step);
  EXPECT_EQ(its.lines[0].y, s.lower_iterations);
  EXPECT_TRUE(ends_with(its.title, "step 30: Krylov 40, lower-level 10")) << its.title;
  EXPECT_TRUE(its.lines[0].markers);  // dots at the points while they are apart (23 pixels here)
  EXPECT_FALSE(history_figure(known_series(100)).panels[0].lines[0].markers);
  // Without lower-level iterations: no line, no right-hand axis.
  HistorySeries no_lower = s;
  no_lower.lower_iterations.clear();
  const FigurePanel& p = history_figure(no_lower).panels[2];
  EXPECT_FALSE(p.has_right_axis);
  EXPECT_TRUE(p.lines.empty());
  EXPECT_TRUE(ends_with(p.title, "step 30: Krylov 40")) << p.title;
}

TEST(HistoryFigure, UndrawableValuesBreakCurvesAndEmptyPanelsSayNoData) {
  HistorySeries s = known_series(12);
  s.upper_loss = {NaN, 0, -1, inf, NaN, 0, 0, 0, NaN, NaN, -2, 0};  // nothing drawable on a log axis
  s.grad_norm[3] = 0;                                               // gaps in an otherwise fine series
  s.grad_norm[4] = NaN;
  s.grad_norm[7] = -1;
  s.krylov_iterations.resize(5);  // shorter than step: missing at the end
  s.lower_iterations[2] = NaN;
  const Figure f = history_figure(s);
  EXPECT_TRUE(f.panels[0].lines.empty());
  EXPECT_EQ(f.panels[0].note, "no data");
  EXPECT_FALSE(f.panels[0].y.numbers);
  const FigurePanel& grad = f.panels[1];
  EXPECT_TRUE(grad.note.empty());
  ASSERT_EQ(grad.lines.size(), 3u);  // steps 1–3, 6–7, 9–12
  EXPECT_EQ(grad.lines[0].x, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(grad.lines[1].x, (std::vector<double>{6, 7}));
  EXPECT_EQ(grad.lines[2].x, (std::vector<double>{9, 10, 11, 12}));
  EXPECT_EQ(grad.lines[1].y, (std::vector<double>{std::log10(s.grad_norm[5]), std::log10(s.grad_norm[6])}));
  const FigurePanel& its = f.panels[2];
  ASSERT_EQ(its.bars.size(), 1u);
  EXPECT_EQ(its.bars[0].x, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(line_ys(its, true).size(), 11u);
  EXPECT_EQ(its.lines.size(), 2u);
  EXPECT_TRUE(its.note.empty());
  // A run before its first step: every panel says "no data", the figure still draws.
  const Figure empty = history_figure(HistorySeries{});
  for (const FigurePanel& p : empty.panels) {
    EXPECT_EQ(p.note, "no data");
    EXPECT_TRUE(p.lines.empty() && p.bars.empty());
  }
  EXPECT_EQ(render_figure(empty).size(), 3u * empty.width * empty.height);
  // A flat loss gets ±0.05 decades.
  HistorySeries flat = known_series(4);
  flat.upper_loss.assign(4, 0.25);
  const FigurePanel& p = history_figure(flat).panels[0];
  EXPECT_NEAR(p.y.hi - p.y.lo, 0.1, 1e-12);
  EXPECT_NEAR(0.5 * (p.y.hi + p.y.lo), std::log10(0.25), 1e-12);
}

TEST(ReconstructionFigure, ReducedImagesAverageBlocksAndKeepTheFullRange) {
  // 5 × 5 to at most 2 a side: blocks of 3 × 3 (cut by the border).
  std::vector<double> img(25);
  for (int k = 0; k < 25; ++k) img[k] = k;
  img[24] = NaN;  // ignored
  const GreyImage g = reduced_image(img, 5, 5, 2);
  EXPECT_EQ(g.rows, 2);
  EXPECT_EQ(g.cols, 2);
  EXPECT_EQ(g.min, 0);
  EXPECT_EQ(g.max, 23);
  ASSERT_EQ(g.values.size(), 4u);
  EXPECT_DOUBLE_EQ(g.values[0], (0 + 1 + 2 + 5 + 6 + 7 + 10 + 11 + 12) / 9.0);
  EXPECT_DOUBLE_EQ(g.values[1], (3 + 4 + 8 + 9 + 13 + 14) / 6.0);
  EXPECT_DOUBLE_EQ(g.values[2], (15 + 16 + 17 + 20 + 21 + 22) / 6.0);
  EXPECT_DOUBLE_EQ(g.values[3], (18 + 19 + 23) / 3.0);
  const GreyImage same = reduced_image(img, 5, 5, 256);  // small images stay as they are
  EXPECT_EQ(same.rows, 5);
  EXPECT_EQ(same.values[7], 7);
  EXPECT_THROW(reduced_image(img, 4, 5, 2), InputError);
}

TEST(ReconstructionFigure, RowsShareTheTruthWindowAndTitlesCarryThePsnr) {
  const std::vector<ReconstructionRow> rows = {known_row(0, 24), known_row(1, 24)};
  const auto titles = reconstruction_titles(rows[1]);
  EXPECT_EQ(titles[0], "sample 1: truth");
  EXPECT_EQ(titles[1], "initial: PSNR 21.37 dB");
  EXPECT_EQ(titles[2], "learned: PSNR 25.08 dB");
  ReconstructionRow perfect = rows[0];
  perfect.psnr_learned = inf;
  EXPECT_EQ(reconstruction_titles(perfect)[2], "learned: PSNR ∞");

  const Figure f = reconstruction_figure(rows);
  EXPECT_TRUE(f.panels.empty());
  ASSERT_EQ(f.images.size(), 6u);
  EXPECT_GT(f.width, 3 * reconstruction_tile);
  EXPECT_GT(f.height, 2 * reconstruction_tile);
  EXPECT_LT(f.height, reconstruction_figure({rows[0], rows[1], rows[0]}).height);
  for (size_t i = 0; i < 2; ++i) {
    const GreyImage* source[3] = {&rows[i].truth, &rows[i].initial, &rows[i].learned};
    const auto t = reconstruction_titles(rows[i]);
    for (size_t j = 0; j < 3; ++j) {
      const FigureImage& im = f.images[3 * i + j];
      EXPECT_EQ(im.title, t[j]);
      EXPECT_EQ(im.values, source[j]->values);
      EXPECT_EQ(im.rows, 24);
      EXPECT_EQ(im.lo, 0);  // the truth's range for all three
      EXPECT_EQ(im.hi, 1);
      EXPECT_NEAR((im.viewport.x1 - im.viewport.x0) * f.width, reconstruction_tile, 1e-9);
      EXPECT_NEAR((im.viewport.y1 - im.viewport.y0) * f.height, reconstruction_tile, 1e-9);
      if (j > 0) {
        EXPECT_GT(im.viewport.x0, f.images[3 * i + j - 1].viewport.x1);  // left to right
      }
    }
    if (i > 0) {
      EXPECT_LT(f.images[3 * i].viewport.y1, f.images[0].viewport.y0);  // rows top to bottom
    }
  }
  ReconstructionRow flat = rows[0];
  flat.truth.min = flat.truth.max = 2.0;  // a flat truth: a unit window
  EXPECT_EQ(reconstruction_figure({flat}).images[2].hi, 3.0);
  EXPECT_THROW(reconstruction_figure({}), InputError);
}

TEST_F(PlotFileTest, HistoryPngIsTheRenderingOfItsFigure) {
  const HistorySeries s = known_series(40);
  const std::string file = path("history.png");
  write_history_plot(PETSC_COMM_WORLD, file, s);  // collective: rank 0 writes
  if (world_rank() == 0) {
    int w = 0, h = 0;
    const std::vector<unsigned char> rgb = read_png_rgb8(file, &w, &h);
    EXPECT_EQ(w, history_plot::default_width);
    EXPECT_EQ(h, history_plot::default_height);
    const Figure f = history_figure(s);
    EXPECT_TRUE(rgb == render_figure(f));  // drawing is deterministic
    EXPECT_FALSE(fs::exists(file + ".tmp"));
    for (const FigurePanel& p : f.panels) EXPECT_GT(ink(rgb, w, h, p.viewport), 500u);
    // Redrawing replaces the file.
    write_history_plot(file, known_series(3), 300, 200);
    read_png_rgb8(file, &w, &h);
    EXPECT_EQ(w, 300);
    EXPECT_EQ(h, 200);
  }
}

TEST_F(PlotFileTest, ReconstructionPngHasTheFigureSize) {
  if (world_rank() == 0) {
    const Figure f = reconstruction_figure({known_row(0, 40), known_row(1, 40), known_row(2, 40)});
    write_figure_png(path("reconstructions.png"), f);
    int w = 0, h = 0;
    const std::vector<unsigned char> rgb = read_png_rgb8(path("reconstructions.png"), &w, &h);
    EXPECT_EQ(w, f.width);
    EXPECT_EQ(h, f.height);
    for (const FigureImage& im : f.images) EXPECT_GT(ink(rgb, w, h, im.viewport), 1000u);  // the black background
  }
}

TEST_F(PlotFileTest, FailedWritesLeaveThePreviousFileAndNoTemporary) {
  const HistorySeries s = known_series(5);
  EXPECT_THROW(write_history_plot(PETSC_COMM_WORLD, path("missing/dir/history.png"), s), InputError);
  EXPECT_THROW(write_history_plot(PETSC_COMM_WORLD, dir_, s), InputError);  // a directory
  if (world_rank() == 0) {
    EXPECT_FALSE(fs::exists(path("missing")));
    const std::string file = path("history.png");
    write_history_plot(file, s);
    const std::string before = file_bytes(file);
    fs::create_directories(file + ".tmp/busy");  // the temporary name is taken
    EXPECT_THROW(write_history_plot(file, known_series(9)), InputError);
    EXPECT_EQ(file_bytes(file), before);
    fs::remove_all(file + ".tmp");
    write_history_plot(file, known_series(9));  // and works again
    EXPECT_NE(file_bytes(file), before);
    EXPECT_FALSE(fs::exists(file + ".tmp"));
    int w = 0, h = 0;
    EXPECT_THROW(read_png_rgb8(path("absent.png"), &w, &h), InputError);
  }
}

TEST(Figure, BadFiguresAreInputErrorsAndNothingIsPrinted) {
  Figure f = history_figure(known_series(4));
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  render_figure(f);
  Figure flat_axis = f;
  flat_axis.panels[1].y.hi = flat_axis.panels[1].y.lo;
  EXPECT_THROW(render_figure(flat_axis), InputError);
  Figure bad_point = f;
  bad_point.panels[0].lines[0].y[1] = NaN;
  EXPECT_THROW(render_figure(bad_point), InputError);
  Figure bad_image = reconstruction_figure({known_row(0, 8)});
  bad_image.images[1].values.pop_back();
  EXPECT_THROW(render_figure(bad_image), InputError);
  Figure tiny = f;
  tiny.width = 0;
  EXPECT_THROW(render_figure(tiny), InputError);
  const std::string out = testing::internal::GetCapturedStdout();
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
  // PLplot is left in a clean state: the next figure draws as before.
  EXPECT_TRUE(render_figure(f) == render_figure(history_figure(known_series(4))));
}
