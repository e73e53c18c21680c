#include "quantlab/analysis/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace quantlab::analysis {
namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
}

double Mean(std::span<const double> x) {
  if (x.empty()) return kNan;
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double StdDev(std::span<const double> x) {
  if (x.size() < 2) return kNan;
  const double m = Mean(x);
  double ss = 0;
  for (double v : x) ss += (v - m) * (v - m);
  return std::sqrt(ss / static_cast<double>(x.size() - 1));
}

double TCritical95(int df) {
  static constexpr double kTable[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                      2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                      2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                      2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df < 1) return kNan;
  if (df <= 30) return kTable[df];
  const double z = 1.959964;
  const double n = df;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n);
}

PairedDifference PairedMeanDifference(std::span<const double> a, std::span<const double> b) {
  PairedDifference r;
  const size_t n = std::min(a.size(), b.size());
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = a[i] - b[i];
  r.n = static_cast<int>(n);
  r.mean = n ? Mean(d) : kNan;
  if (n < 2) {
    r.stderr_ = r.lo = r.hi = kNan;
    return r;
  }
  r.stderr_ = StdDev(d) / std::sqrt(static_cast<double>(n));
  const double t = TCritical95(static_cast<int>(n) - 1);
  r.lo = r.mean - t * r.stderr_;
  r.hi = r.mean + t * r.stderr_;
  return r;
}

std::vector<double> Ranks(std::span<const double> x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return x[i] < x[j]; });
  std::vector<double> ranks(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = avg;
    i = j + 1;
  }
  return ranks;
}

double Pearson(std::span<const double> x, std::span<const double> y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 3) return kNan;
  const double mx = Mean(x.first(n)), my = Mean(y.first(n));
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return kNan;
  return sxy / std::sqrt(sxx * syy);
}

double Spearman(std::span<const double> x, std::span<const double> y) {
  const size_t n = std::min(x.size(), y.size());
  const auto rx = Ranks(x.first(n));
  const auto ry = Ranks(y.first(n));
  return Pearson(rx, ry);
}

}  // namespace quantlab::analysis
