#include "quantlab/report/charts.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "quantlab/report/canvas.h"

namespace quantlab::report {
namespace {

struct Frame {
  double left, top, right, bottom;  // plot area in surface coordinates
  double x_lo, x_hi, y_lo, y_hi;    // data range
  double X(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * (right - left); }
  double Y(double y) const { return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top); }
};

std::string TickLabel(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  return fmt::format("{:.{}f}", v, std::min(decimals, 6));
}

void Background(cairo_t* cr, double width, double height) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
}

void Title(cairo_t* cr, double width, const std::string& title) {
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  SetFont(cr, 15, true);
  DrawText(cr, width / 2, 24, title, Align::kCenter);
}

// Grid, ticks, tick labels and axis labels.
void Axes(cairo_t* cr, const Frame& f, const std::string& x_label, const std::string& y_label,
          bool x_ticks = true) {
  SetFont(cr, 11);
  cairo_set_line_width(cr, 1);
  const auto yt = NiceTicks(f.y_lo, f.y_hi, 6);
  for (double v : yt) {
    if (v < f.y_lo - 1e-12 || v > f.y_hi + 1e-12) continue;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, f.left, f.Y(v));
    cairo_line_to(cr, f.right, f.Y(v));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    DrawText(cr, f.left - 6, f.Y(v) + 4, TickLabel(v, yt.size() > 1 ? yt[1] - yt[0] : 1), Align::kRight);
  }
  if (x_ticks) {
    const auto xt = NiceTicks(f.x_lo, f.x_hi, 7);
    for (double v : xt) {
      if (v < f.x_lo - 1e-12 || v > f.x_hi + 1e-12) continue;
      cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
      cairo_move_to(cr, f.X(v), f.top);
      cairo_line_to(cr, f.X(v), f.bottom);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
      cairo_move_to(cr, f.X(v), f.bottom);
      cairo_line_to(cr, f.X(v), f.bottom + 5);
      cairo_stroke(cr);
      DrawText(cr, f.X(v), f.bottom + 18, TickLabel(v, xt.size() > 1 ? xt[1] - xt[0] : 1), Align::kCenter);
    }
  }
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_stroke(cr);
  SetFont(cr, 12);
  DrawText(cr, (f.left + f.right) / 2, f.bottom + 38, x_label, Align::kCenter);
  cairo_save(cr);
  cairo_translate(cr, f.left - 52, (f.top + f.bottom) / 2);
  cairo_rotate(cr, -M_PI / 2);
  DrawText(cr, 0, 0, y_label, Align::kCenter);
  cairo_restore(cr);
}

void Range(std::vector<double> v, double* lo, double* hi, bool include_zero) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) v = {0, 1};
  *lo = *std::min_element(v.begin(), v.end());
  *hi = *std::max_element(v.begin(), v.end());
  if (include_zero) *lo = std::min(*lo, 0.0);
  double pad = (*hi - *lo) * 0.08;
  if (pad <= 0) pad = std::max(std::abs(*hi) * 0.05, 1e-6);
  *hi += pad;
  if (!include_zero || *lo < 0) *lo -= pad;
}

void SetColor(cairo_t* cr, size_t index, double alpha = 1.0) {
  const Rgb c = PaletteColor(index);
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

}  // namespace

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

void DrawScatter(cairo_t* cr, double width, double height, const ScatterChart& chart) {
  Background(cr, width, height);
  Title(cr, width, chart.title);
  std::vector<double> xs, ys;
  for (const auto& p : chart.points) {
    xs.push_back(p.x);
    ys.push_back(p.y + p.y_err);
    ys.push_back(p.y - p.y_err);
  }
  Frame f{78, 42, width - 24, height - 58, 0, 1, 0, 1};
  Range(xs, &f.x_lo, &f.x_hi, true);
  Range(ys, &f.y_lo, &f.y_hi, false);
  Axes(cr, f, chart.x_label, chart.y_label);

  // The front as a dashed line under the points.
  std::vector<const ScatterPoint*> front;
  for (const auto& name : chart.front) {
    for (const auto& p : chart.points) {
      if (p.label == name) front.push_back(&p);
    }
  }
  if (front.size() > 1) {
    cairo_set_source_rgba(cr, 0.15, 0.15, 0.15, 0.7);
    cairo_set_line_width(cr, 1.5);
    const double dash[] = {6, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, f.X(front[0]->x), f.Y(front[0]->y));
    for (size_t i = 1; i < front.size(); ++i) cairo_line_to(cr, f.X(front[i]->x), f.Y(front[i]->y));
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
  }
  SetFont(cr, 11);
  // Points first (error bars faint: they are each format's own interval, much wider than the paired one).
  for (const auto& p : chart.points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    if (p.y_err > 0) {
      SetColor(cr, p.color, 0.35);
      cairo_set_line_width(cr, 1);
      cairo_move_to(cr, f.X(p.x), f.Y(p.y - p.y_err));
      cairo_line_to(cr, f.X(p.x), f.Y(p.y + p.y_err));
      cairo_stroke(cr);
    }
    SetColor(cr, p.color);
    const bool on_front = std::find(chart.front.begin(), chart.front.end(), p.label) != chart.front.end();
    cairo_new_path(cr);
    cairo_arc(cr, f.X(p.x), f.Y(p.y), on_front ? 5.5 : 4.5, 0, 2 * M_PI);
    if (on_front) {
      cairo_fill(cr);
    } else {
      cairo_set_line_width(cr, 2);
      cairo_stroke(cr);
    }
  }
  // Labels: the first of a few positions around the point that overlaps no earlier label or point.
  struct Box {
    double x0, y0, x1, y1;
    bool Overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  };
  std::vector<Box> taken;
  for (const auto& p : chart.points) {
    if (std::isfinite(p.x) && std::isfinite(p.y))
      taken.push_back({f.X(p.x) - 5, f.Y(p.y) - 5, f.X(p.x) + 5, f.Y(p.y) + 5});
  }
  const double offsets[][2] = {{8, -7}, {8, 15},   {-8, -7}, {-8, 15}, {8, -20},
                               {8, 28}, {-8, -20}, {-8, 28}, {14, 4},  {-14, 4}};
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  for (const auto& p : chart.points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) continue;
    const double w = TextWidth(cr, p.label);
    Box chosen{};
    bool found = false;
    for (const auto& o : offsets) {
      const double x0 = o[0] > 0 ? f.X(p.x) + o[0] : f.X(p.x) + o[0] - w;
      const Box b{x0, f.Y(p.y) + o[1] - 10, x0 + w, f.Y(p.y) + o[1] + 2};
      if (b.x0 < f.left || b.x1 > f.right || b.y0 < f.top || b.y1 > f.bottom) continue;
      if (std::any_of(taken.begin(), taken.end(), [&](const Box& t) { return t.Overlaps(b); })) continue;
      chosen = b;
      found = true;
      break;
    }
    if (!found) {
      const double x0 = f.X(p.x) + 8;
      chosen = {x0, f.Y(p.y) - 17, x0 + w, f.Y(p.y) - 5};
    }
    taken.push_back(chosen);
    DrawText(cr, chosen.x0, chosen.y1 - 2, p.label);
  }
  // Legend.
  const double lx = f.right - 170, ly = f.top + 10;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
  cairo_rectangle(cr, lx, ly, 160, 42);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  cairo_new_path(cr);
  cairo_arc(cr, lx + 14, ly + 13, 5, 0, 2 * M_PI);
  cairo_fill(cr);
  DrawText(cr, lx + 26, ly + 17, "on the front (filled)");
  const double dash[] = {6, 4};
  cairo_set_dash(cr, dash, 2, 0);
  cairo_set_line_width(cr, 1.5);
  cairo_move_to(cr, lx + 4, ly + 31);
  cairo_line_to(cr, lx + 24, ly + 31);
  cairo_stroke(cr);
  cairo_set_dash(cr, nullptr, 0, 0);
  DrawText(cr, lx + 26, ly + 35, chart.front_label);
}

void DrawBars(cairo_t* cr, double width, double height, const BarChart& chart) {
  Background(cr, width, height);
  Title(cr, width, chart.title);
  std::vector<double> ys;
  for (const auto& b : chart.bars) ys.push_back(b.y);
  Frame f{78, 42, width - 24, height - 58, 0, std::max<double>(1, chart.bars.size()), 0, 1};
  Range(ys, &f.y_lo, &f.y_hi, true);
  Axes(cr, f, "format", chart.y_label, false);
  const double slot = (f.right - f.left) / std::max<size_t>(1, chart.bars.size());
  SetFont(cr, 11);
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const auto& b = chart.bars[i];
    const double x = f.left + slot * i + slot * 0.18;
    const double w = slot * 0.64;
    if (std::isfinite(b.y)) {
      SetColor(cr, b.color);
      cairo_rectangle(cr, x, f.Y(b.y), w, f.Y(0) - f.Y(b.y));
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
      DrawText(cr, x + w / 2, f.Y(b.y) - 5, fmt::format("{:.4g}", b.y), Align::kCenter);
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    DrawText(cr, x + w / 2, f.bottom + 18, b.label, Align::kCenter);
  }
}

void DrawWinnerMap(cairo_t* cr, double width, double height, const WinnerMapChart& chart) {
  Background(cr, width, height);
  Title(cr, width, chart.title);
  // Triangle: size weight 1 at bottom-left, speed weight 1 at bottom-right, quality weight 1 at the top.
  const double legend_w = 170;
  const double side = std::min(width - legend_w - 60, (height - 100) / std::sqrt(3.0) * 2);
  const double ax = 40, ay = height - 50;
  const double cx = ax + side, cy = ay;
  const double bx = ax + side / 2, by = ay - side * std::sqrt(3.0) / 2;
  auto to_xy = [&](double ws, double wq, double wv, double* x, double* y) {
    *x = ws * ax + wq * bx + wv * cx;
    *y = ws * ay + wq * by + wv * cy;
  };
  auto color_of = [&](const std::string& name) -> size_t {
    for (size_t i = 0; i < chart.formats.size(); ++i) {
      if (chart.formats[i] == name) return i;
    }
    return chart.formats.size();
  };
  cairo_save(cr);
  cairo_move_to(cr, ax, ay);
  cairo_line_to(cr, bx, by);
  cairo_line_to(cr, cx, cy);
  cairo_close_path(cr);
  cairo_clip(cr);
  const double spacing = side * chart.map.step;
  for (const auto& p : chart.map.points) {
    double x, y;
    to_xy(p.size, p.quality, p.speed, &x, &y);
    SetColor(cr, color_of(p.winner));
    // A hexagon per grid point tiles the triangle without gaps.
    for (int k = 0; k < 6; ++k) {
      const double ang = M_PI / 6 + k * M_PI / 3;
      const double r = spacing / std::sqrt(3.0) * 1.02;
      if (k == 0) {
        cairo_move_to(cr, x + r * std::cos(ang), y + r * std::sin(ang));
      } else {
        cairo_line_to(cr, x + r * std::cos(ang), y + r * std::sin(ang));
      }
    }
    cairo_close_path(cr);
    cairo_fill(cr);
  }
  cairo_restore(cr);
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  cairo_set_line_width(cr, 1.5);
  cairo_move_to(cr, ax, ay);
  cairo_line_to(cr, bx, by);
  cairo_line_to(cr, cx, cy);
  cairo_close_path(cr);
  cairo_stroke(cr);
  SetFont(cr, 12, true);
  DrawText(cr, ax, ay + 20, "size = 1", Align::kLeft);
  DrawText(cr, cx, cy + 20, "speed = 1", Align::kRight);
  DrawText(cr, bx, by - 8, "quality = 1", Align::kCenter);
  // Markers for the lab's weights (circle) and speed-first weights (square).
  auto marker = [&](const analysis::ScoreWeights& w, bool square) {
    const double sum = w.size + w.quality + w.speed;
    double x, y;
    to_xy(w.size / sum, w.quality / sum, w.speed / sum, &x, &y);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_new_path(cr);
    if (square) {
      cairo_rectangle(cr, x - 5, y - 5, 10, 10);
    } else {
      cairo_arc(cr, x, y, 5.5, 0, 2 * M_PI);
    }
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 2);
    cairo_stroke(cr);
  };
  marker(chart.lab_weights, false);
  marker({0.2, 0.3, 0.5}, true);
  // Legend: winners with their share.
  double ly = 60;
  const double lx = width - legend_w;
  SetFont(cr, 12);
  for (const auto& name : chart.formats) {
    auto it = chart.map.share.find(name);
    if (it == chart.map.share.end()) continue;
    SetColor(cr, color_of(name));
    cairo_rectangle(cr, lx, ly - 10, 14, 14);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    DrawText(cr, lx + 20, ly + 2, fmt::format("{} ({:.0f}%)", name, it->second * 100));
    ly += 22;
  }
  ly += 10;
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, 2);
  cairo_new_path(cr);
  cairo_arc(cr, lx + 7, ly - 3, 5, 0, 2 * M_PI);
  cairo_stroke(cr);
  DrawText(cr, lx + 20, ly + 2, "lab weights");
  ly += 22;
  cairo_new_path(cr);
  cairo_rectangle(cr, lx + 2, ly - 8, 10, 10);
  cairo_stroke(cr);
  DrawText(cr, lx + 20, ly + 2, "speed-first");
}

}  // namespace quantlab::report
