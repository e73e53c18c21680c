// Axes for the charts: linear and logarithmic scales, tick positions, and the frame that maps data to
// surface coordinates and draws grid, ticks and axis labels.
#pragma once

#include <cairo.h>

#include <string>
#include <vector>

#include "quantlab/report/label_placement.h"

namespace quantlab::report {

struct Scale {
  double lo = 0, hi = 1;
  bool log = false;  // base 10; then lo > 0
  // Where `v` lies between lo (0) and hi (1).
  double Fraction(double v) const;
  bool Contains(double v) const;
};

// The finite values' range padded by 8%, with 0 included when asked.
Scale LinearScale(const std::vector<double>& values, bool include_zero);
// A log scale over the positive finite values, padded by a factor on each side.
Scale LogScale(const std::vector<double>& values);
// A log scale is worth it when every value is positive and they span at least a factor of 20: on a linear
// scale the small ones would sit on top of each other near the bottom.
bool SpreadNeedsLog(const std::vector<double>& values);

// "Nice" tick positions (1, 2, 5 x 10^k steps) covering [lo, hi], about `target` of them.
std::vector<double> NiceTicks(double lo, double hi, int target);
// Powers of ten within [lo, hi], with 2x and 5x between them when the range spans under three decades.
std::vector<double> LogTicks(double lo, double hi);

struct Frame {
  double left = 0, top = 0, right = 1, bottom = 1;  // the plot area, in surface coordinates
  Scale x, y;
  double X(double v) const { return left + x.Fraction(v) * (right - left); }
  double Y(double v) const { return bottom - y.Fraction(v) * (bottom - top); }
  Box Area() const { return {left, top, right, bottom}; }
};

// Grid, ticks, tick labels, frame and axis labels.
void DrawAxes(cairo_t* cr, const Frame& f, const std::string& x_label, const std::string& y_label,
              bool x_ticks = true);

}  // namespace quantlab::report
