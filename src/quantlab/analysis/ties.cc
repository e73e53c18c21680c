#include "quantlab/analysis/ties.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "quantlab/analysis/stats.h"

namespace quantlab::analysis {
namespace {

bool Finite(double v) { return std::isfinite(v); }

// Disjoint intervals: a above b is kBetter when higher is better.
Order ByIntervals(double a_lo, double a_hi, double b_lo, double b_hi, bool higher_is_better) {
  if (!Finite(a_lo) || !Finite(a_hi) || !Finite(b_lo) || !Finite(b_hi)) return Order::kTied;
  if (a_lo > b_hi) return higher_is_better ? Order::kBetter : Order::kWorse;
  if (a_hi < b_lo) return higher_is_better ? Order::kWorse : Order::kBetter;
  return Order::kTied;
}

// Per-chunk differences a - b, chunk i of data set d paired with chunk i of data set d.
std::vector<double> ChunkDifferences(const std::vector<std::vector<double>>& a,
                                     const std::vector<std::vector<double>>& b) {
  std::vector<double> d;
  for (size_t ds = 0; ds < a.size() && ds < b.size(); ++ds) {
    for (size_t i = 0; i < a[ds].size() && i < b[ds].size(); ++i) d.push_back(a[ds][i] - b[ds][i]);
  }
  return d;
}

}  // namespace

Order CompareQuality(const FormatPoint& a, const FormatPoint& b) {
  const auto d = ChunkDifferences(a.chunk_nll, b.chunk_nll);
  if (d.size() >= 2) {
    const std::vector<double> zeros(d.size(), 0.0);
    const auto diff = PairedMeanDifference(d, zeros);
    if (!Finite(diff.lo) || !Finite(diff.hi)) return Order::kTied;
    if (diff.hi < 0) return Order::kBetter;  // a's NLL established lower
    if (diff.lo > 0) return Order::kWorse;
    return Order::kTied;
  }
  return ByIntervals(a.loss_lo, a.loss_hi, b.loss_lo, b.loss_hi, false);
}

Order CompareSpeed(const FormatPoint& a, const FormatPoint& b) {
  return ByIntervals(a.tg_lo, a.tg_hi, b.tg_lo, b.tg_hi, true);
}

bool QualityDiffersFromBase(const FormatPoint& p) {
  if (p.is_base || !Finite(p.loss_lo) || !Finite(p.loss_hi)) return false;
  return p.loss_lo > 0 || p.loss_hi < 0;
}

std::vector<double> TieGroupValues(
    const std::vector<FormatPoint>& points, const std::function<double(const FormatPoint&)>& value,
    bool higher_is_better, const std::function<Order(const FormatPoint&, const FormatPoint&)>& compare) {
  std::vector<size_t> order;
  for (size_t i = 0; i < points.size(); ++i) {
    if (Finite(value(points[i]))) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
    return higher_is_better ? value(points[i]) > value(points[j]) : value(points[i]) < value(points[j]);
  });
  std::vector<double> out(points.size(), kNaN);
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    auto tied_with_group = [&](size_t candidate) {
      for (size_t m = start; m < end; ++m) {
        if (compare(points[order[m]], points[candidate]) != Order::kTied) return false;
      }
      return true;
    };
    while (end < order.size() && tied_with_group(order[end])) ++end;
    double sum = 0;
    for (size_t m = start; m < end; ++m) sum += value(points[order[m]]);
    for (size_t m = start; m < end; ++m) out[order[m]] = sum / static_cast<double>(end - start);
    start = end;
  }
  return out;
}

Interval MeanInterval(double mean, double stddev, int n) {
  if (n < 2 || !Finite(mean) || !Finite(stddev) || mean <= 0.0) return {};
  const double half_log = TCritical95(n - 1) * (stddev / mean) / std::sqrt(static_cast<double>(n));
  return {mean * std::exp(-half_log), mean * std::exp(half_log)};
}

}  // namespace quantlab::analysis
