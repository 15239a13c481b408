// history.png: the training history drawn as three stacked panels sharing the x axis
// (outer step): (1) upper loss, log10 y axis; (2) gradient norm |grad L|, log10 y axis;
// (3) Krylov iterations per step as bars and lower-level iterations per step as a line,
// linear y axis. Non-finite values are skipped, and so are non-positive values on the log
// axes; a panel without any value shows "no data". Each panel title ends with the latest
// value, so the plot of a running job tells where it is.
#pragma once
#include <mpi.h>

#include <array>
#include <string>
#include <vector>

#include "bilearn/io/raster.hpp"

namespace bilearn {

// Plain series, one entry per outer step (index k in every vector belongs to step[k]); a
// vector shorter than `step` counts as missing values at its end. lower_iterations may be
// empty (then no line is drawn).
struct HistorySeries {
  std::vector<double> step;
  std::vector<double> upper_loss;
  std::vector<double> grad_norm;
  std::vector<double> krylov_iterations;
  std::vector<double> lower_iterations;
};

namespace history_plot {
constexpr int default_width = 900;
constexpr int default_height = 720;
constexpr Rgb loss_colour{31, 119, 180};   // blue
constexpr Rgb grad_colour{214, 39, 40};    // red
constexpr Rgb krylov_colour{44, 160, 44};  // green bars
constexpr Rgb lower_colour{255, 127, 14};  // orange line
constexpr Rgb text_colour{30, 30, 30};     // tick labels and axis titles
}  // namespace history_plot

// The three data rectangles (top to bottom) of a width × height plot: frames, ticks and
// curves are drawn inside them, labels and titles outside.
std::array<PixelRect, 3> history_plot_panels(int width, int height);

// Draws the plot (no files, no MPI).
Canvas render_history_plot(const HistorySeries& s, int width = history_plot::default_width,
                           int height = history_plot::default_height);

// Draws and writes the plot to path (atomically, via "<path>.tmp"). Not collective. Throws
// InputError if the file cannot be written.
void write_history_plot(const std::string& path, const HistorySeries& s, int width = history_plot::default_width,
                        int height = history_plot::default_height);

// Collective: rank 0 draws and writes s (other ranks' s is ignored); a failure is the same
// InputError on every rank.
void write_history_plot(MPI_Comm comm, const std::string& path, const HistorySeries& s);

}  // namespace bilearn
