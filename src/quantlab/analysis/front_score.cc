// Pareto fronts, knee, multi-metric score and the winner map, all with unestablished differences as ties.
#include <algorithm>
#include <cmath>

#include "quantlab/analysis/decisions.h"
#include "quantlab/analysis/ties.h"

namespace quantlab::analysis {
namespace {

bool Finite(double v) { return std::isfinite(v); }

// Min-max normalisation onto [0, 1], where 1 is best. A metric that does not vary scores 1 everywhere;
// a format without the measurement scores 0 on it.
std::vector<double> Normalise(const std::vector<double>& values, bool higher_is_better) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!Finite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::vector<double> out(values.size(), 0.0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!Finite(values[i])) continue;
    if (hi - lo <= 0) {
      out[i] = 1.0;
    } else {
      const double t = (values[i] - lo) / (hi - lo);
      out[i] = higher_is_better ? t : 1.0 - t;
    }
  }
  return out;
}

bool AnyFinite(const std::vector<double>& v) {
  return std::any_of(v.begin(), v.end(), [](double x) { return Finite(x); });
}

// Indices of the points with both figures, smallest first (equal sizes: better estimate first).
std::vector<size_t> BySize(const std::vector<FormatPoint>& points, double FormatPoint::*figure,
                           bool higher_is_better) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < points.size(); ++i) {
    if (Finite(points[i].bytes) && Finite(points[i].*figure)) idx.push_back(i);
  }
  std::stable_sort(idx.begin(), idx.end(), [&](size_t i, size_t j) {
    if (points[i].bytes != points[j].bytes) return points[i].bytes < points[j].bytes;
    return higher_is_better ? points[i].*figure > points[j].*figure : points[i].*figure < points[j].*figure;
  });
  return idx;
}

// The staircase front, walked from the smallest format up: a format joins the front when it is
// established better than the front's last (largest) member so far; otherwise that member, no larger
// and not established worse, dominates it. So every step up the front buys an established gain, a format
// that costs bytes for a gain inside the noise is dominated, and the smallest format is always on it.
std::vector<std::string> Staircase(const std::vector<FormatPoint>& points, double FormatPoint::*figure,
                                   bool higher_is_better,
                                   Order (*compare)(const FormatPoint&, const FormatPoint&),
                                   std::vector<std::string>* dominated_by) {
  std::vector<std::string> front;
  const FormatPoint* last = nullptr;
  for (size_t i : BySize(points, figure, higher_is_better)) {
    const FormatPoint& p = points[i];
    if (last == nullptr || compare(p, *last) == Order::kBetter) {
      front.push_back(p.format);
      last = &p;
    } else if (dominated_by) {
      (*dominated_by)[i] = last->format;
    }
  }
  return front;
}

}  // namespace

std::vector<std::string> MarkQualityFront(std::vector<FormatPoint>& points) {
  std::vector<std::string> dominated_by(points.size());
  auto front = Staircase(points, &FormatPoint::loss_pct, false, CompareQuality, &dominated_by);
  for (size_t i = 0; i < points.size(); ++i) {
    points[i].dominated_by = dominated_by[i];
    points[i].on_front = std::find(front.begin(), front.end(), points[i].format) != front.end();
  }
  return front;
}

std::vector<std::string> SpeedFront(const std::vector<FormatPoint>& points) {
  return Staircase(points, &FormatPoint::tg_tps, true, CompareSpeed, nullptr);
}

// The knee: on the front, with size and loss each scaled to [0, 1] between the front's extremes, the
// front runs from (0, 1) (smallest, most loss) to (1, 0) (largest, least loss). The knee is the interior
// point farthest below the straight line between them (largest 1 - x - y): the point where giving up
// more bytes stops buying much quality, and saving more bytes starts costing much. With fewer than
// three front points, or a front that never bends below the line, there is no knee and the smallest
// front format within 2% loss (else the largest) is returned instead.
std::string KneeOfFront(const std::vector<FormatPoint>& points, const std::vector<std::string>& front) {
  std::vector<const FormatPoint*> f;
  for (const auto& name : front) {
    for (const auto& p : points) {
      if (p.format == name) f.push_back(&p);
    }
  }
  if (f.empty()) return "";
  std::string fallback = f.back()->format;
  for (auto* p : f) {
    if (p->loss_pct <= 2.0) {
      fallback = p->format;
      break;
    }
  }
  if (f.size() < 3) return fallback;
  const double x0 = f.front()->bytes, x1 = f.back()->bytes;
  double y_lo = INFINITY, y_hi = -INFINITY;
  for (auto* p : f) {
    y_lo = std::min(y_lo, p->loss_pct);
    y_hi = std::max(y_hi, p->loss_pct);
  }
  if (x1 <= x0 || y_hi <= y_lo) return fallback;
  double best = 0.0;
  std::string knee;
  for (size_t i = 1; i + 1 < f.size(); ++i) {
    const double x = (f[i]->bytes - x0) / (x1 - x0);
    const double y = (f[i]->loss_pct - y_lo) / (y_hi - y_lo);
    const double below = 1.0 - x - y;
    if (below > best) {
      best = below;
      knee = f[i]->format;
    }
  }
  return knee.empty() ? fallback : knee;
}

// Each metric is min-max normalised over the lab's formats, after quality and speed are replaced by
// their tie-group values (ties.h): formats whose difference is not established get the same quality
// (or speed) score, so noise cannot rank them. Speed that says nothing about large models
// (`speed_counts` false) counts as one tie: it scores 1 for every measured format and moves no ranking.
std::vector<ScoreRow> Score(const std::vector<FormatPoint>& points, const ScoreWeights& weights,
                            bool speed_counts) {
  std::vector<double> bytes, raw_speed;
  for (const auto& p : points) {
    bytes.push_back(p.bytes);
    raw_speed.push_back(p.tg_tps);
  }
  const auto loss = TieGroupValues(
      points, [](const FormatPoint& p) { return p.loss_pct; }, false, CompareQuality);
  auto speed = speed_counts ? TieGroupValues(
                                  points, [](const FormatPoint& p) { return p.tg_tps; }, true, CompareSpeed)
                            : raw_speed;
  if (!speed_counts) {
    for (double& v : speed) v = Finite(v) ? 1.0 : kNaN;
  }
  const auto s = Normalise(bytes, false);
  const auto q = Normalise(loss, false);
  const auto v = Normalise(speed, true);
  const double ws = AnyFinite(bytes) ? weights.size : 0.0;
  const double wq = AnyFinite(loss) ? weights.quality : 0.0;
  const double wv = AnyFinite(speed) ? weights.speed : 0.0;
  const double sum = ws + wq + wv;
  std::vector<ScoreRow> rows;
  for (size_t i = 0; i < points.size(); ++i) {
    ScoreRow r;
    r.format = points[i].format;
    r.size_score = Finite(bytes[i]) ? s[i] : kNaN;
    r.quality_score = Finite(loss[i]) ? q[i] : kNaN;
    r.speed_score = Finite(speed[i]) ? v[i] : kNaN;
    r.total = sum > 0 ? (ws * s[i] + wq * q[i] + wv * v[i]) / sum : kNaN;
    rows.push_back(r);
  }
  return rows;
}

std::string Winner(const std::vector<ScoreRow>& rows) {
  const ScoreRow* best = nullptr;
  for (const auto& r : rows) {
    if (!Finite(r.total)) continue;
    // Ties (within rounding) go to the better quality: when the score cannot decide, keep the quality.
    if (best == nullptr || r.total > best->total + 1e-12 ||
        (std::abs(r.total - best->total) <= 1e-12 && r.quality_score > best->quality_score)) {
      best = &r;
    }
  }
  return best ? best->format : "";
}

std::vector<ScoreRow> OnlyFormats(const std::vector<ScoreRow>& rows,
                                  const std::vector<std::string>& formats) {
  std::vector<ScoreRow> kept;
  for (const auto& r : rows) {
    if (std::find(formats.begin(), formats.end(), r.format) != formats.end()) kept.push_back(r);
  }
  return kept;
}

WinnerMap MapWinners(const std::vector<FormatPoint>& points, const std::vector<std::string>& candidates,
                     bool speed_counts, double step) {
  WinnerMap map;
  map.step = step;
  const int n = static_cast<int>(std::lround(1.0 / step));
  int total = 0;
  for (int i = 0; i <= n; ++i) {
    for (int j = 0; i + j <= n; ++j) {
      const int k = n - i - j;
      ScoreWeights w{i * step, j * step, k * step};
      std::string winner = Winner(OnlyFormats(Score(points, w, speed_counts), candidates));
      map.points.push_back({w.size, w.quality, w.speed, winner});
      map.share[winner] += 1.0;
      ++total;
    }
  }
  for (auto& [name, share] : map.share) share /= total;
  return map;
}

int StarsFromScore(double score) {
  if (!Finite(score)) return 0;
  return 1 + static_cast<int>(std::lround(4.0 * std::clamp(score, 0.0, 1.0)));
}

// Quality stars use fixed bands of perplexity increase, because "how much worse than the original" has
// a meaning of its own that a min-max scale would hide (a lab where every format is within 0.5% should
// not give any of them one star).
int QualityStars(double loss_pct) {
  if (!Finite(loss_pct)) return 0;
  if (loss_pct <= 0.5) return 5;
  if (loss_pct <= 1.0) return 4;
  if (loss_pct <= 3.0) return 3;
  if (loss_pct <= 10.0) return 2;
  return 1;
}

}  // namespace quantlab::analysis
