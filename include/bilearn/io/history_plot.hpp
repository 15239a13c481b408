// history.png: the training history drawn as three stacked panels sharing the x axis
// (outer step): (1) upper loss, log y axis; (2) gradient norm ‖∇L‖, log y axis; (3) Krylov
// iterations per step as bars (left axis) and lower-level iterations per step as a line
// (right-hand axis). Non-finite values are skipped, and so are non-positive values on the log
// axes (a gap breaks a line); a panel without any value says "no data". Each panel title ends
// with the latest values, so the plot of a running job tells where it is.
#pragma once
#include <mpi.h>

#include <string>
#include <vector>

#include "bilearn/io/figure.hpp"

namespace bilearn {

// Plain series, one entry per outer step (index k in every vector belongs to step[k]); a
// vector shorter than `step` counts as missing values at its end. lower_iterations may be
// empty (then no line and no right-hand axis are drawn).
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
constexpr Colour loss_colour{31, 119, 180};   // blue
constexpr Colour grad_colour{214, 39, 40};    // red
constexpr Colour krylov_colour{44, 160, 44};  // green bars
constexpr Colour lower_colour{255, 127, 14};  // orange line
}  // namespace history_plot

// The figure (three panels, top to bottom) that history.png shows. No drawing, no MPI.
Figure history_figure(const HistorySeries& s, int width = history_plot::default_width,
                      int height = history_plot::default_height);

// Draws and writes the plot to path (atomically, via "<path>.tmp"). Not collective. Throws
// InputError if it cannot be drawn or written.
void write_history_plot(const std::string& path, const HistorySeries& s, int width = history_plot::default_width,
                        int height = history_plot::default_height);

// Collective: rank 0 draws and writes s (other ranks' s is ignored); a failure is the same
// InputError on every rank.
void write_history_plot(MPI_Comm comm, const std::string& path, const HistorySeries& s);

}  // namespace bilearn
