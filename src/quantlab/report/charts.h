// Charts drawn directly on cairo: axes, ticks, labels and legends are our own, so the report needs no
// plotting library. Each Draw* fills the rectangle (0, 0, width, height) of the current cairo transform.
#pragma once

#include <cairo.h>

#include <string>
#include <vector>

#include "quantlab/analysis/analysis.h"

namespace quantlab::report {

struct ScatterPoint {
  std::string label;
  double x = 0;
  double y = 0;
  double y_err = 0;  // half-height of an error bar; 0 = none
  size_t color = 0;  // palette index
};

struct ScatterChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ScatterPoint> points;
  std::vector<std::string> front;  // labels of the Pareto front, in drawing order
  std::string front_label = "Pareto front";
};

struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<ScatterPoint> bars;  // label + y (x unused)
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

// "Nice" tick positions (1, 2, 5 x 10^k steps) covering [lo, hi], about `target` of them.
std::vector<double> NiceTicks(double lo, double hi, int target);

}  // namespace quantlab::report
