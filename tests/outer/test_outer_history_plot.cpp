// history.png of a training run: the series come from the history the run holds, so the
// plot of a run stopped and resumed shows every step (it equals the uninterrupted run's plot
// pixel for pixel, and the figure of the whole history.csv); history text → series round
// trip, NaN for missing fields.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "analytic_problems.hpp"
#include "bilearn/io/history_plot.hpp"
#include "bilearn/io/png.hpp"
#include "bilearn/outer/history.hpp"
#include "bilearn/outer/trainer.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace outer_test;
using bilearn_test::world_rank;
namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> png_pixels(const std::string& path, int* w, int* h) {
  return read_png_rgb8(path, w, h);
}

}  // namespace

TEST(HistorySeries, ReadsThePlottedColumnsOfHistoryText) {
  HistoryRow a;
  a.iteration = 1;
  a.upper_loss = 0.1 / 3;
  a.grad_norm = 2.5e-7;
  a.krylov_iterations = 17;
  a.lower_iterations = 4;
  a.phase = "gd";
  a.theta = {1.0, -2.0};
  HistoryRow b = a;
  b.iteration = 2;
  b.upper_loss = std::nan("");
  const std::string text = history_header(2) + "\n" + history_line(a) + "\n" + history_line(b) + "\n";
  const HistorySeries s = history_series(text);
  EXPECT_EQ(s.step, (std::vector<double>{1, 2}));
  ASSERT_EQ(s.upper_loss.size(), 2u);
  EXPECT_EQ(s.upper_loss[0], 0.1 / 3);  // %.17g: exact
  EXPECT_TRUE(std::isnan(s.upper_loss[1]));
  EXPECT_EQ(s.grad_norm, (std::vector<double>{2.5e-7, 2.5e-7}));
  EXPECT_EQ(s.krylov_iterations, (std::vector<double>{17, 17}));
  EXPECT_EQ(s.lower_iterations, (std::vector<double>{4, 4}));
  // A row cut short and a header without a column: NaN, no crash.
  const HistorySeries cut = history_series("iteration,upper_loss\n3,0.5\n4\n");
  EXPECT_EQ(cut.step, (std::vector<double>{3, 4}));
  EXPECT_TRUE(std::isnan(cut.upper_loss[1]));
  EXPECT_TRUE(std::isnan(cut.krylov_iterations[0]));
  EXPECT_TRUE(history_series("").step.empty());
  // HistoryFile: series of its initial text plus appended rows (nothing written: no path).
  HistoryFile file(MPI_COMM_WORLD, "", history_header(2), text);
  HistoryRow c = a;
  c.iteration = 3;
  file.append(c);
  EXPECT_EQ(file.series().step, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(file.series().upper_loss[2], a.upper_loss);
}

TEST(HistoryPlotFile, ResumedRunPlotsEveryStepOfTheRun) {
  TempDir tmp;
  OuterOptions o = quiet_options("gd");
  o.step = 2.0;
  o.max_it = 6;
  o.checkpoint_every = 1;
  const std::vector<PetscReal> theta0(6, -2.0);
  Quadratic full_problem(6, 5);
  train(PETSC_COMM_WORLD, full_problem, theta0, o, tmp.sub("full"));
  OuterOptions first = o;
  first.max_it = 3;
  Quadratic part_problem(6, 5);
  train(PETSC_COMM_WORLD, part_problem, theta0, first, tmp.sub("split"));
  if (world_rank() == 0) fs::copy_file(tmp.sub("split/history.png"), tmp.sub("after3.png"));
  MPI_Barrier(MPI_COMM_WORLD);
  Quadratic rest_problem(6, 5);
  resume(PETSC_COMM_WORLD, rest_problem, o, tmp.sub("split"));
  if (world_rank() == 0) {
    int w = 0, h = 0, w3 = 0, h3 = 0, wf = 0, hf = 0;
    const auto split = png_pixels(tmp.sub("split/history.png"), &w, &h);
    const auto after3 = png_pixels(tmp.sub("after3.png"), &w3, &h3);
    const auto full = png_pixels(tmp.sub("full/history.png"), &wf, &hf);
    EXPECT_EQ(w, history_plot::default_width);
    EXPECT_EQ(h, history_plot::default_height);
    EXPECT_TRUE(split == full) << "the resumed run's plot lacks steps of the uninterrupted run";
    EXPECT_FALSE(split == after3);
    // The plot is the rendering of the whole history.csv.
    const HistorySeries csv = history_series(read_file(tmp.sub("full/history.csv")));
    EXPECT_EQ(csv.step.size(), 6u);
    EXPECT_TRUE(full == render_figure(history_figure(csv)));
    EXPECT_FALSE(fs::exists(tmp.sub("full/history.png.tmp")));
  }
}
