// Placing point labels on a chart so that no two overlap and none covers a marker, an error bar or the
// legend. A label goes next to its point when there is room; otherwise it moves outwards to the nearest
// free spot and is tied to its point by a leader line.
#pragma once

#include <vector>

namespace quantlab::report {

// An axis-aligned rectangle in surface coordinates (y grows downwards).
struct Box {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool Overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  bool Inside(const Box& outer) const {
    return x0 >= outer.x0 && x1 <= outer.x1 && y0 >= outer.y0 && y1 <= outer.y1;
  }
};

struct LabelRequest {
  double x = 0, y = 0;           // the point the label names
  double width = 0, height = 0;  // the label's text extent
};

struct PlacedLabel {
  Box box;
  bool leader = false;  // placed away from its point: draw a line from the point to the box
  bool free = true;     // false only when no free spot was left anywhere in the bounds
};

// Places the labels in order, each where it overlaps no obstacle and no label placed before it, inside
// `bounds`: first right, left, above or below next to the point, then on rings further out (with a
// leader), then at the free spot of the bounds nearest to the point.
std::vector<PlacedLabel> PlaceLabels(const std::vector<LabelRequest>& labels, std::vector<Box> obstacles,
                                     const Box& bounds);

// The point of `box`'s edge nearest to (x, y): where a leader line from the point meets the label.
void NearestEdgePoint(const Box& box, double x, double y, double* ex, double* ey);

}  // namespace quantlab::report
