#include "bilearn/io/plot_axis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace bilearn {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Magnitudes printed in fixed notation.
bool fixed_range(double v) {
  return v == 0 || (std::fabs(v) >= 1e-2 && std::fabs(v) < 1e5);
}

// "e-05" / "e+05" → "e-5" / "e5" in a printf result.
std::string compact_exponent(std::string s) {
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string mantissa = s.substr(0, e), exponent = s.substr(e + 1);
  const bool negative = !exponent.empty() && exponent[0] == '-';
  if (!exponent.empty() && (exponent[0] == '-' || exponent[0] == '+')) exponent.erase(0, 1);
  exponent.erase(0, std::min(exponent.find_first_not_of('0'), exponent.size() - 1));
  return mantissa + "e" + (negative ? "-" : "") + exponent;
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", std::clamp(decimals, 0, 17), v);
  return buf;
}

// Labels the ticks of an axis whose coordinates are the values themselves.
void label_ticks(Axis& axis, const std::vector<double>& values, double step) {
  for (double v : values) axis.ticks.push_back({v, tick_label(v, step)});
}

// A labelled tick of a log axis: its value and the spacing its label needs.
struct LogTick {
  double value, step;
};

// Labelled ticks of the log10 range [lo, hi]: decades (every few when there are many) when
// two or more lie inside; otherwise nice values (m × 10^k, m from a 1–8 list) at least a
// sixth of the range apart; a range too narrow for three of those gets 1/2/5 steps of the
// values themselves.
std::vector<LogTick> log_ticks(double lo, double hi) {
  std::vector<LogTick> ticks;
  if (std::floor(hi) - std::ceil(lo) >= 1) {
    for (double k : nice_ticks(lo, hi, 6, 1)) ticks.push_back({std::pow(10.0, k), std::pow(10.0, k)});
    return ticks;
  }
  const double gap = (hi - lo) / 6;
  double last = -std::numeric_limits<double>::infinity();
  for (double k = std::floor(lo); k <= std::floor(hi); ++k)
    for (double m : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0}) {
      const double v = m * std::pow(10.0, k), c = std::log10(v);
      if (c < lo || c > hi || c - last < gap) continue;
      ticks.push_back({v, std::pow(10.0, m == std::floor(m) ? k : k - 1)});
      last = c;
    }
  if (ticks.size() >= 3) return ticks;
  ticks.clear();
  double step = 0;
  for (double v : nice_ticks(std::pow(10.0, lo), std::pow(10.0, hi), 7, 0, &step))
    if (v > 0) ticks.push_back({v, step});
  return ticks;
}

}  // namespace

double Axis::coordinate(double v) const {
  if (!std::isfinite(v)) return nan;
  if (!log) return v;
  return v > 0 ? std::log10(v) : nan;
}

std::vector<double> nice_ticks(double lo, double hi, int target, double min_step, double* step_out) {
  std::vector<double> ticks;
  if (!(std::isfinite(lo) && std::isfinite(hi) && hi > lo)) {
    if (step_out) *step_out = 0;
    return ticks;
  }
  const double raw = (hi - lo) / std::max(target, 1);
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * decade;
  for (double m : {1.0, 2.0, 5.0})
    if (m * decade >= raw * (1 - 1e-12)) {
      step = m * decade;
      break;
    }
  step = std::max(step, min_step);
  if (step_out) *step_out = step;
  const double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  for (double i = first; i <= last; ++i) {
    const double v = i * step;
    ticks.push_back(std::fabs(v) < 1e-9 * step ? 0.0 : v);  // no "-0"
  }
  return ticks;
}

std::string tick_label(double v, double step, bool exponent) {
  if (!std::isfinite(v)) return short_number(v);
  if (v == 0) return "0";
  const int step_exp = step > 0 ? static_cast<int>(std::floor(std::log10(step) + 1e-9)) : 0;
  if (!exponent && fixed_range(v)) return fixed(v, -step_exp);
  int e = static_cast<int>(std::floor(std::log10(std::fabs(v)) + 1e-12));
  const int decimals = std::max(0, e - step_exp);
  std::string mantissa = fixed(v / std::pow(10.0, e), decimals);
  if (std::fabs(std::stod(mantissa)) >= 10) mantissa = fixed(v / std::pow(10.0, ++e), decimals);
  return mantissa + "e" + std::to_string(e);
}

std::string short_number(double v, int digits) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const int d = std::clamp(digits, 1, 17);
  char buf[64];
  if (fixed_range(v)) {
    std::snprintf(buf, sizeof(buf), "%.*g", d, v);  // "%g" may still choose an exponent (12345 with 4 digits)
    return compact_exponent(buf);
  }
  std::snprintf(buf, sizeof(buf), "%.*e", d - 1, v);  // "3.2140e-05": drop the mantissa's trailing zeros
  std::string s = buf;
  const size_t e = s.find('e');
  size_t end = e;
  while (end > 0 && s[end - 1] == '0') --end;
  if (end > 0 && s[end - 1] == '.') --end;
  return compact_exponent(s.substr(0, end) + s.substr(e));
}

Axis log_axis(const std::vector<double>& values) {
  Axis axis;
  axis.log = true;
  double lmin = std::numeric_limits<double>::infinity(), lmax = -lmin;
  for (double v : values) {
    const double c = axis.coordinate(v);
    if (std::isnan(c)) continue;
    lmin = std::min(lmin, c);
    lmax = std::max(lmax, c);
  }
  if (!(lmin <= lmax)) return axis;  // no drawable value: empty, [0, 1], no ticks
  axis.empty = false;
  const double margin = lmax > lmin ? 0.05 * (lmax - lmin) : 0.05;
  axis.lo = lmin - margin;
  axis.hi = lmax + margin;
  const std::vector<LogTick> labelled = log_ticks(axis.lo, axis.hi);
  bool exponent = false;  // one notation for the whole axis
  for (const LogTick& t : labelled) exponent = exponent || !fixed_range(t.value);
  for (const LogTick& t : labelled) axis.ticks.push_back({std::log10(t.value), tick_label(t.value, t.step, exponent)});
  const double first = std::ceil(axis.lo), last = std::floor(axis.hi);
  if (last - first >= 1 && last - first <= 60)  // marks at every decade, and at 2…9 × 10^k when few
    for (double k = first - 1; k <= last; ++k)
      for (int j = 1; j <= 9; ++j) {
        const double c = k + std::log10(static_cast<double>(j));
        if (c < axis.lo || c > axis.hi || (j > 1 && last - first > 6)) continue;
        if (std::none_of(labelled.begin(), labelled.end(),
                         [&](const LogTick& t) { return t.value == std::pow(10.0, c); }))
          axis.ticks.push_back({c, ""});
      }
  return axis;
}

Axis count_axis(const std::vector<double>& values, bool integer) {
  Axis axis;
  double vmin = std::numeric_limits<double>::infinity(), vmax = -vmin;
  for (double v : values)
    if (std::isfinite(v)) {
      vmin = std::min(vmin, v);
      vmax = std::max(vmax, v);
    }
  axis.empty = !(vmin <= vmax);
  if (axis.empty) return axis;
  axis.lo = std::min(0.0, vmin);
  axis.hi = vmax > 0 ? vmax * 1.06 : 0.0;
  if (!(axis.hi > axis.lo)) axis.hi = axis.lo + 1;
  double step = 0;
  const std::vector<double> ticks = nice_ticks(axis.lo, axis.hi, 7, integer ? 1 : 0, &step);
  label_ticks(axis, ticks, step);
  return axis;
}

Axis step_axis(const std::vector<double>& steps) {
  Axis axis;
  double smin = std::numeric_limits<double>::infinity(), smax = -smin;
  for (double s : steps)
    if (std::isfinite(s)) {
      smin = std::min(smin, s);
      smax = std::max(smax, s);
    }
  axis.empty = !(smin <= smax);
  if (axis.empty) return axis;
  axis.lo = smin - 0.5;
  axis.hi = smax + 0.5;
  double step = 0;
  const std::vector<double> ticks = nice_ticks(axis.lo, axis.hi, 8, 1, &step);
  label_ticks(axis, ticks, step);
  return axis;
}

}  // namespace bilearn
