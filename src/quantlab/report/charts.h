// Charts drawn directly on cairo: axes, ticks, labels and legends are our own, so the report needs no
// plotting library. Each Draw* fills the rectangle (0, 0, width, height) of the current cairo transform.
#pragma once

#include <cairo.h>

#include <string>
#include <vector>

#include "quantlab/analysis/analysis.h"
#include "quantlab/report/axes.h"

namespace quantlab::report {

enum class YScale { kLinear, kLog, kAuto };  // kAuto: log when SpreadNeedsLog(the points' y)

struct ScatterPoint {
  std::string label;
  double x = 0;
  double y = 0;
  double y_lo = analysis::kNaN;  // error bar from y_lo to y_hi (a 95% CI); NaN = no bar
  double y_hi = analysis::kNaN;
  size_t color = 0;  // palette index
};

struct ScatterChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ScatterPoint> points;
  std::vector<std::string> front;  // labels of the Pareto front, in drawing order
  std::string front_label = "Pareto front";
  std::string bar_label;  // legend entry for the error bars; empty = no entry
  YScale y_scale = YScale::kLinear;
  bool y_from_zero = false;
};

struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<ScatterPoint> bars;  // label + y (x unused)
  YScale y_scale = YScale::kLinear;
};

struct WinnerMapChart {
  std::string title;
  analysis::WinnerMap map;
  std::vector<std::string> formats;  // for colours, in the lab's order
  analysis::ScoreWeights lab_weights;
};

void DrawScatter(cairo_t* cr, double width, double height, const ScatterChart& chart);
void DrawBars(cairo_t* cr, double width, double height, const BarChart& chart);
void DrawWinnerMap(cairo_t* cr, double width, double height, const WinnerMapChart& chart);

// Shared by the charts.
void FillBackground(cairo_t* cr, double width, double height);
void DrawTitle(cairo_t* cr, double width, const std::string& title);
void SetPaletteColor(cairo_t* cr, size_t index, double alpha = 1.0);

}  // namespace quantlab::report
