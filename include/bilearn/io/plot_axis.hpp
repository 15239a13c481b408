// Plot axes: the range of a data series with a margin, "nice" tick positions (1, 2, 5 × 10^k
// steps, or whole decades on a log axis) and short tick labels ("0.25", "1e-3", "4.5e-7").
// Values that cannot be drawn (non-finite; non-positive on a log axis) are ignored.
#pragma once
#include <string>
#include <vector>

namespace bilearn {

struct AxisTick {
  double at = 0;      // axis coordinate (log10 of the value on a log axis)
  std::string label;  // empty: a minor tick (mark only)
};

struct Axis {
  bool log = false;
  double lo = 0, hi = 1;  // axis coordinates covered, lo < hi
  bool empty = true;      // no drawable value in the data
  std::vector<AxisTick> ticks;

  // Axis coordinate of a value: log10(v) on a log axis; NaN if v cannot be drawn.
  double coordinate(double v) const;
  // Position of v in [0, 1] along the axis (NaN if v cannot be drawn).
  double fraction(double v) const { return (coordinate(v) - lo) / (hi - lo); }
};

// Ticks at multiples of a 1/2/5 × 10^k step (at least min_step) in [lo, hi], about `target`
// of them at most.
std::vector<double> nice_ticks(double lo, double hi, int target, double min_step, double* step_out = nullptr);

// The label of tick value v on an axis with tick spacing step: as few digits as the spacing
// needs, fixed notation for moderate magnitudes (0.01 ≤ |v| < 1e5) and "m.me-k" otherwise or
// when `exponent` (one notation for a whole axis).
std::string tick_label(double v, double step, bool exponent = false);

// v with `digits` significant digits and a compact exponent ("3.214e-5", "0.0125", "42").
std::string short_number(double v, int digits = 4);

// A log10 axis over the positive finite values, 5 % margin in decades each side (a constant
// series gets ±0.05 decades). Labelled decades (every few when there are many; unlabelled
// marks at the others and at 2…9 × 10^k when there are at most 6) when two or more decades
// lie inside; otherwise nice values m × 10^k spread evenly in log scale, or 1/2/5 steps for
// a very narrow range. The labels of an axis share one notation.
Axis log_axis(const std::vector<double>& values);

// A linear axis over the finite values from 0 (or the minimum, if negative) to the maximum
// plus 6 %; integer ticks when `integer`.
Axis count_axis(const std::vector<double>& values, bool integer);

// The outer-step axis: half a step of margin each side, integer ticks.
Axis step_axis(const std::vector<double>& steps);

}  // namespace bilearn
