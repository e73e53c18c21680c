// The winner map: which format the score picks at every mix of weights, as a triangle over the weight
// simplex (size, quality, speed), with markers at the lab's weights and the speed-first weights.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "quantlab/report/canvas.h"
#include "quantlab/report/charts.h"

namespace quantlab::report {

void DrawWinnerMap(cairo_t* cr, double width, double height, const WinnerMapChart& chart) {
  FillBackground(cr, width, height);
  DrawTitle(cr, width, chart.title);
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
    SetPaletteColor(cr, color_of(p.winner));
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
    SetPaletteColor(cr, color_of(name));
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
