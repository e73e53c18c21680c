#include "quantlab/report/charts.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <fmt/format.h>

#include "quantlab/report/canvas.h"
#include "quantlab/report/label_placement.h"

namespace quantlab::report {
namespace {

constexpr double kLabelFont = 11, kLabelHeight = 13, kLabelBaseline = 10;

bool Finite(double v) { return std::isfinite(v); }

bool UseLog(YScale scale, const std::vector<double>& ys) {
  return scale == YScale::kLog || (scale == YScale::kAuto && SpreadNeedsLog(ys));
}

// A small grey line under the title (what the chart leaves out, or how to read it).
void Note(cairo_t* cr, double width, const std::string& note) {
  if (note.empty()) return;
  cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
  SetFont(cr, 10.5);
  DrawText(cr, width / 2, 40, note, Align::kCenter);
}

// The y range of a scatter: points and bar ends. On a log scale the bar ends far below the points are
// left out (the bar is cut at the axis and marked), so that one wide interval does not flatten the rest.
Scale ScatterYScale(const std::vector<const ScatterPoint*>& points, bool log, bool from_zero) {
  std::vector<double> ys;
  double min_y = INFINITY;
  for (const auto* p : points) min_y = std::min(min_y, p->y);
  for (const auto* p : points) {
    ys.push_back(p->y);
    for (double end : {p->y_lo, p->y_hi}) {
      if (Finite(end) && (!log || end >= min_y / 30)) ys.push_back(end);
    }
  }
  return log ? LogScale(ys) : LinearScale(ys, from_zero);
}

// An error bar from y_lo to y_hi, clipped to the axis; a clipped end gets an arrowhead instead of a cap.
// Returns the box it covers, for the label placement.
Box ErrorBar(cairo_t* cr, const Frame& f, const ScatterPoint& p) {
  const double x = f.X(p.x);
  const bool lo_cut = (f.y.log && p.y_lo <= 0) || p.y_lo < f.y.lo;
  const bool hi_cut = p.y_hi > f.y.hi;
  const double y_lo = lo_cut ? f.bottom : f.Y(p.y_lo);
  const double y_hi = hi_cut ? f.top : f.Y(p.y_hi);
  SetPaletteColor(cr, p.color, 0.75);
  cairo_set_line_width(cr, 1.4);
  cairo_move_to(cr, x, y_lo);
  cairo_line_to(cr, x, y_hi);
  cairo_stroke(cr);
  for (auto [y, cut, dir] : {std::tuple{y_lo, lo_cut, 1.0}, std::tuple{y_hi, hi_cut, -1.0}}) {
    if (cut) {
      cairo_move_to(cr, x - 3.5, y - dir * 6);
      cairo_line_to(cr, x, y);
      cairo_line_to(cr, x + 3.5, y - dir * 6);
    } else {
      cairo_move_to(cr, x - 4, y);
      cairo_line_to(cr, x + 4, y);
    }
    cairo_stroke(cr);
  }
  return {x - 4, y_hi - 1, x + 4, y_lo + 1};
}

void Marker(cairo_t* cr, double x, double y, size_t color, bool filled) {
  SetPaletteColor(cr, color);
  cairo_new_path(cr);
  cairo_arc(cr, x, y, filled ? 5.5 : 4.5, 0, 2 * M_PI);
  if (filled) {
    cairo_fill(cr);
  } else {
    cairo_set_line_width(cr, 2);
    cairo_stroke(cr);
  }
}

// The legend in the top-right corner of the plot area: the front (when the chart has one) and the error
// bars (when any are drawn). Returns the box it covers, empty when there is nothing to explain.
Box ScatterLegend(cairo_t* cr, const Frame& f, const ScatterChart& chart, bool has_bars) {
  const bool front = !chart.front.empty() && !chart.front_label.empty();
  const bool bars = has_bars && !chart.bar_label.empty();
  if (!front && !bars) return {};
  SetFont(cr, kLabelFont);
  double text_w = 0;
  if (front) text_w = std::max({TextWidth(cr, "on the front (filled)"), TextWidth(cr, chart.front_label)});
  if (bars) text_w = std::max(text_w, TextWidth(cr, chart.bar_label));
  const double w = text_w + 34, h = (front ? 36 : 0) + (bars ? 20 : 0) + 6;
  const Box box{f.right - w - 6, f.top + 6, f.right - 6, f.top + 6 + h};
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_rectangle(cr, box.x0, box.y0, w, h);
  cairo_fill(cr);
  const double lx = box.x0;
  double ly = box.y0 + 4;
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  if (front) {
    cairo_new_path(cr);
    cairo_arc(cr, lx + 14, ly + 9, 5, 0, 2 * M_PI);
    cairo_fill(cr);
    DrawText(cr, lx + 26, ly + 13, "on the front (filled)");
    const double dash[] = {6, 4};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_line_width(cr, 1.5);
    cairo_move_to(cr, lx + 4, ly + 27);
    cairo_line_to(cr, lx + 24, ly + 27);
    cairo_stroke(cr);
    cairo_set_dash(cr, nullptr, 0, 0);
    DrawText(cr, lx + 26, ly + 31, chart.front_label);
    ly += 36;
  }
  if (bars) {
    cairo_set_line_width(cr, 1.4);
    cairo_move_to(cr, lx + 14, ly + 2);
    cairo_line_to(cr, lx + 14, ly + 16);
    cairo_move_to(cr, lx + 10, ly + 2);
    cairo_line_to(cr, lx + 18, ly + 2);
    cairo_move_to(cr, lx + 10, ly + 16);
    cairo_line_to(cr, lx + 18, ly + 16);
    cairo_stroke(cr);
    DrawText(cr, lx + 26, ly + 13, chart.bar_label);
  }
  return box;
}

// Labels placed so that none overlaps another, a marker, a bar or the legend; a label moved away from
// its point is tied to it by a thin line.
void PointLabels(cairo_t* cr, const Frame& f, const std::vector<const ScatterPoint*>& points,
                 std::vector<Box> obstacles) {
  SetFont(cr, kLabelFont);
  std::vector<LabelRequest> requests;
  for (const auto* p : points) {
    requests.push_back({f.X(p->x), f.Y(p->y), TextWidth(cr, p->label), kLabelHeight});
  }
  const Box bounds{f.left + 2, f.top + 2, f.right - 2, f.bottom - 2};
  const auto placed = PlaceLabels(requests, std::move(obstacles), bounds);
  for (size_t i = 0; i < placed.size(); ++i) {
    const Box& b = placed[i].box;
    if (placed[i].leader) {
      double ex, ey;
      NearestEdgePoint(b, requests[i].x, requests[i].y, &ex, &ey);
      cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
      cairo_set_line_width(cr, 0.8);
      cairo_move_to(cr, requests[i].x, requests[i].y);
      cairo_line_to(cr, ex, ey);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    DrawText(cr, b.x0, b.y0 + kLabelBaseline, points[i]->label);
  }
}

}  // namespace

void FillBackground(cairo_t* cr, double width, double height) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, 0, 0, width, height);
  cairo_fill(cr);
}

void DrawTitle(cairo_t* cr, double width, const std::string& title) {
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  SetFont(cr, 15, true);
  DrawText(cr, width / 2, 24, title, Align::kCenter);
}

void SetPaletteColor(cairo_t* cr, size_t index, double alpha) {
  const Rgb c = PaletteColor(index);
  cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha);
}

void DrawScatter(cairo_t* cr, double width, double height, const ScatterChart& chart) {
  FillBackground(cr, width, height);
  DrawTitle(cr, width, chart.title);
  std::vector<double> all_y;
  for (const auto& p : chart.points) all_y.push_back(p.y);
  const bool log = UseLog(chart.y_scale, all_y);
  // A log axis cannot show zero or less: such points are named under the title instead.
  std::vector<const ScatterPoint*> shown;
  std::string left_out;
  for (const auto& p : chart.points) {
    if (!Finite(p.x) || !Finite(p.y)) continue;
    if (log && p.y <= 0) {
      left_out += fmt::format("{}{} ({:g})", left_out.empty() ? "" : ", ", p.label, p.y);
    } else {
      shown.push_back(&p);
    }
  }
  Frame f{82, left_out.empty() ? 42.0 : 52.0, width - 24, height - 58};
  std::vector<double> xs;
  for (const auto* p : shown) xs.push_back(p->x);
  f.x = LinearScale(xs, true);
  f.y = ScatterYScale(shown, log, chart.y_from_zero);
  DrawAxes(cr, f, chart.x_label, chart.y_label + (log ? " (log scale)" : ""));
  if (!left_out.empty()) Note(cr, width, "not on the log scale: " + left_out);

  // The front as a dashed line under the points.
  std::vector<const ScatterPoint*> front;
  for (const auto& name : chart.front) {
    for (const auto* p : shown) {
      if (p->label == name) front.push_back(p);
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
  std::vector<Box> obstacles;
  for (const auto* p : shown) {
    if (Finite(p->y_lo) && Finite(p->y_hi)) obstacles.push_back(ErrorBar(cr, f, *p));
  }
  const bool has_bars = !obstacles.empty();
  for (const auto* p : shown) {
    const bool on_front = std::find(chart.front.begin(), chart.front.end(), p->label) != chart.front.end();
    Marker(cr, f.X(p->x), f.Y(p->y), p->color, on_front);
    obstacles.push_back({f.X(p->x) - 6, f.Y(p->y) - 6, f.X(p->x) + 6, f.Y(p->y) + 6});
  }
  obstacles.push_back(ScatterLegend(cr, f, chart, has_bars));
  PointLabels(cr, f, shown, std::move(obstacles));
}

void DrawBars(cairo_t* cr, double width, double height, const BarChart& chart) {
  FillBackground(cr, width, height);
  DrawTitle(cr, width, chart.title);
  std::vector<double> ys;
  for (const auto& b : chart.bars) ys.push_back(b.y);
  const bool log = UseLog(chart.y_scale, ys);
  // Format names turn to a slant when they do not fit under their bar side by side.
  SetFont(cr, kLabelFont);
  double widest = 0;
  for (const auto& b : chart.bars) widest = std::max(widest, TextWidth(cr, b.label));
  const double slot_guess = (width - 106) / std::max<size_t>(1, chart.bars.size());
  const bool slanted = widest > slot_guess * 0.92;
  const double label_room = slanted ? widest * 0.6 + 10 : 0;
  Frame f{82, 42, width - 24, height - 58 - label_room};
  f.x = {0, std::max<double>(1, chart.bars.size()), false};
  f.y = log ? LogScale(ys) : LinearScale(ys, true);
  if (log) f.y.hi *= 1.6;  // room for the value above the tallest bar
  DrawAxes(cr, f, "", chart.y_label + (log ? " (log scale)" : ""), false);
  cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
  SetFont(cr, 12);
  DrawText(cr, (f.left + f.right) / 2, height - 12, "format", Align::kCenter);
  const double slot = (f.right - f.left) / std::max<size_t>(1, chart.bars.size());
  for (size_t i = 0; i < chart.bars.size(); ++i) {
    const auto& b = chart.bars[i];
    const double x = f.left + slot * i + slot * 0.18;
    const double w = slot * 0.64;
    SetFont(cr, kLabelFont);
    const bool drawable = Finite(b.y) && (!log || b.y > 0);
    if (drawable) {
      const double base = log ? f.bottom : f.Y(0);
      SetPaletteColor(cr, b.color);
      cairo_rectangle(cr, x, f.Y(b.y), w, base - f.Y(b.y));
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    const std::string value = drawable      ? fmt::format("{:.3g}", b.y)
                              : Finite(b.y) ? fmt::format("{:g}", b.y)
                                            : "n/a";
    DrawText(cr, x + w / 2, drawable ? f.Y(b.y) - 5 : f.bottom - 5, value, Align::kCenter);
    if (slanted) {
      cairo_save(cr);
      cairo_translate(cr, x + w / 2 + 4, f.bottom + 12);
      cairo_rotate(cr, -M_PI / 5);
      DrawText(cr, 0, 0, b.label, Align::kRight);
      cairo_restore(cr);
    } else {
      DrawText(cr, x + w / 2, f.bottom + 18, b.label, Align::kCenter);
    }
  }
}

}  // namespace quantlab::report
