#include "quantlab/report/axes.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "quantlab/report/canvas.h"

namespace quantlab::report {
namespace {

std::vector<double> Finite(const std::vector<double>& values, bool positive_only) {
  std::vector<double> out;
  for (double v : values) {
    if (std::isfinite(v) && (!positive_only || v > 0)) out.push_back(v);
  }
  return out;
}

std::string LinearTickLabel(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return fmt::format("{:.{}f}", v, std::min(decimals, 6));
}

std::string LogTickLabel(double v) {
  if (v >= 1e-3 && v < 1e5) return fmt::format("{:g}", v);
  return fmt::format("{:.0e}", v);
}

void GridLine(cairo_t* cr, double x0, double y0, double x1, double y1) {
  cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
  cairo_move_to(cr, x0, y0);
  cairo_line_to(cr, x1, y1);
  cairo_stroke(cr);
}

std::vector<double> Ticks(const Scale& s, int target) {
  return s.log ? LogTicks(s.lo, s.hi) : NiceTicks(s.lo, s.hi, target);
}

std::string TickLabel(const Scale& s, const std::vector<double>& ticks, double v) {
  return s.log ? LogTickLabel(v) : LinearTickLabel(v, ticks.size() > 1 ? ticks[1] - ticks[0] : 1);
}

}  // namespace

double Scale::Fraction(double v) const {
  if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  return (v - lo) / (hi - lo);
}

bool Scale::Contains(double v) const {
  const double slack = (log ? 1e-9 * hi : 1e-9 * (hi - lo));
  return std::isfinite(v) && v >= lo - slack && v <= hi + slack;
}

Scale LinearScale(const std::vector<double>& values, bool include_zero) {
  std::vector<double> v = Finite(values, false);
  if (v.empty()) v = {0, 1};
  Scale s{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()), false};
  if (include_zero) s.lo = std::min(s.lo, 0.0);
  double pad = (s.hi - s.lo) * 0.08;
  if (pad <= 0) pad = std::max(std::abs(s.hi) * 0.05, 1e-6);
  s.hi += pad;
  if (!include_zero || s.lo < 0) s.lo -= pad;
  return s;
}

Scale LogScale(const std::vector<double>& values) {
  std::vector<double> v = Finite(values, true);
  if (v.empty()) v = {1};
  const double lo = *std::min_element(v.begin(), v.end());
  const double hi = *std::max_element(v.begin(), v.end());
  return {lo / 1.5, (hi > lo ? hi : lo * 10) * 1.5, true};
}

bool SpreadNeedsLog(const std::vector<double>& values) {
  const std::vector<double> v = Finite(values, false);
  if (v.size() < 2 || *std::min_element(v.begin(), v.end()) <= 0) return false;
  return *std::max_element(v.begin(), v.end()) >= 20 * *std::min_element(v.begin(), v.end());
}

std::vector<double> NiceTicks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  // Integer multiples of the step, so that labels do not accumulate rounding error.
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1)
    ticks.push_back(k == 0 ? 0.0 : k * step);
  return ticks;
}

std::vector<double> LogTicks(double lo, double hi) {
  std::vector<double> ticks;
  if (!(hi > lo) || !(lo > 0) || !std::isfinite(hi)) return ticks;
  const bool minor = std::log10(hi / lo) < 3;
  for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= static_cast<int>(std::ceil(std::log10(hi)));
       ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1.0 && !minor) continue;
      // Built from a string so that 10^-3 prints as 0.001, not 0.0010000000000000002.
      const double v = std::stod(fmt::format("{}e{}", m, e));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push_back(v);
    }
  }
  return ticks;
}

void DrawAxes(cairo_t* cr, const Frame& f, const std::string& x_label, const std::string& y_label,
              bool x_ticks) {
  SetFont(cr, 11);
  cairo_set_line_width(cr, 1);
  const auto yt = Ticks(f.y, 6);
  for (double v : yt) {
    if (!f.y.Contains(v)) continue;
    GridLine(cr, f.left, f.Y(v), f.right, f.Y(v));
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    DrawText(cr, f.left - 6, f.Y(v) + 4, TickLabel(f.y, yt, v), Align::kRight);
  }
  if (x_ticks) {
    const auto xt = Ticks(f.x, 7);
    for (double v : xt) {
      if (!f.x.Contains(v)) continue;
      GridLine(cr, f.X(v), f.top, f.X(v), f.bottom);
      cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
      cairo_move_to(cr, f.X(v), f.bottom);
      cairo_line_to(cr, f.X(v), f.bottom + 5);
      cairo_stroke(cr);
      DrawText(cr, f.X(v), f.bottom + 18, TickLabel(f.x, xt, v), Align::kCenter);
    }
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_stroke(cr);
  SetFont(cr, 12);
  DrawText(cr, (f.left + f.right) / 2, f.bottom + 38, x_label, Align::kCenter);
  cairo_save(cr);
  cairo_translate(cr, f.left - 54, (f.top + f.bottom) / 2);
  cairo_rotate(cr, -M_PI / 2);
  DrawText(cr, 0, 0, y_label, Align::kCenter);
  cairo_restore(cr);
}

}  // namespace quantlab::report
