#include "quantlab/report/label_placement.h"

#include <algorithm>
#include <cmath>

namespace quantlab::report {
namespace {

constexpr double kGap = 7;  // between a point and a label next to it

bool IsFree(const Box& b, const std::vector<Box>& taken, const Box& bounds) {
  if (!b.Inside(bounds)) return false;
  return std::none_of(taken.begin(), taken.end(), [&](const Box& t) { return t.Overlaps(b); });
}

Box BoxAt(const LabelRequest& l, double x0, double y0) { return {x0, y0, x0 + l.width, y0 + l.height}; }

// The label's box beside the point: right, left, above-right, below-right, above-left, below-left,
// above, below (the order a reader expects).
std::vector<Box> Beside(const LabelRequest& l) {
  const double mid = l.y - l.height / 2;
  return {BoxAt(l, l.x + kGap, mid),
          BoxAt(l, l.x - kGap - l.width, mid),
          BoxAt(l, l.x + kGap * 0.6, l.y - kGap * 0.6 - l.height),
          BoxAt(l, l.x + kGap * 0.6, l.y + kGap * 0.6),
          BoxAt(l, l.x - kGap * 0.6 - l.width, l.y - kGap * 0.6 - l.height),
          BoxAt(l, l.x - kGap * 0.6 - l.width, l.y + kGap * 0.6),
          BoxAt(l, l.x - l.width / 2, l.y - kGap - l.height),
          BoxAt(l, l.x - l.width / 2, l.y + kGap)};
}

// Boxes whose nearest edge point lies `radius` from the point, at 16 angles.
std::vector<Box> OnRing(const LabelRequest& l, double radius) {
  std::vector<Box> boxes;
  for (int k = 0; k < 16; ++k) {
    const double angle = k * M_PI / 8;
    const double dx = std::cos(angle) * radius, dy = -std::sin(angle) * radius;
    // The box extends away from the point, so that the ring distance is its gap.
    const double x0 = dx >= 0 ? l.x + dx : l.x + dx - l.width;
    const double y0 = dy >= 0 ? l.y + dy : l.y + dy - l.height;
    boxes.push_back(BoxAt(l, std::abs(dx) < 1e-9 ? l.x - l.width / 2 : x0,
                          std::abs(dy) < 1e-9 ? l.y - l.height / 2 : y0));
  }
  return boxes;
}

double Distance(const Box& b, double x, double y) {
  double ex, ey;
  NearestEdgePoint(b, x, y, &ex, &ey);
  return std::hypot(ex - x, ey - y);
}

// Scans the bounds on a fine grid for the free box nearest to the point.
bool NearestFree(const LabelRequest& l, const std::vector<Box>& taken, const Box& bounds, Box* out) {
  constexpr double kStep = 3;
  bool found = false;
  double best = 0;
  for (double y0 = bounds.y0; y0 + l.height <= bounds.y1; y0 += kStep) {
    for (double x0 = bounds.x0; x0 + l.width <= bounds.x1; x0 += kStep) {
      const Box b = BoxAt(l, x0, y0);
      const double d = Distance(b, l.x, l.y);
      if (found && d >= best) continue;
      if (!IsFree(b, taken, bounds)) continue;
      *out = b;
      best = d;
      found = true;
    }
  }
  return found;
}

}  // namespace

void NearestEdgePoint(const Box& box, double x, double y, double* ex, double* ey) {
  *ex = std::clamp(x, box.x0, box.x1);
  *ey = std::clamp(y, box.y0, box.y1);
}

std::vector<PlacedLabel> PlaceLabels(const std::vector<LabelRequest>& labels, std::vector<Box> obstacles,
                                     const Box& bounds) {
  std::vector<PlacedLabel> placed;
  for (const auto& l : labels) {
    PlacedLabel p;
    bool done = false;
    for (const Box& b : Beside(l)) {
      if (IsFree(b, obstacles, bounds)) {
        p.box = b;
        done = true;
        break;
      }
    }
    for (double radius = 18; !done && radius <= 120; radius += 12) {
      for (const Box& b : OnRing(l, radius)) {
        if (IsFree(b, obstacles, bounds)) {
          p.box = b;
          p.leader = true;
          done = true;
          break;
        }
      }
    }
    if (!done && NearestFree(l, obstacles, bounds, &p.box)) {
      p.leader = true;
      done = true;
    }
    if (!done) {  // The chart is full: keep the label beside its point and say so.
      p.box = Beside(l).front();
      p.free = false;
    }
    obstacles.push_back(p.box);
    placed.push_back(p);
  }
  return placed;
}

}  // namespace quantlab::report
