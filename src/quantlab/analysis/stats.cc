#include "quantlab/analysis/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace quantlab::analysis {
namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// The regularized incomplete beta function I_x(a, b) by Lentz's continued fraction, on the side of x
// where it converges fast (I_x(a, b) = 1 - I_{1-x}(b, a) otherwise).
double IncompleteBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - IncompleteBeta(b, a, 1 - x);
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x)) /
      a;
  double f = 1, c = 1, d = 0;
  for (int i = 0; i <= 300; ++i) {
    const double m = i / 2;
    double numerator = 1;
    if (i > 0 && i % 2 == 0) numerator = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    if (i % 2 == 1) numerator = -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + numerator * d;
    d = 1 / (std::fabs(d) < 1e-30 ? 1e-30 : d);
    c = 1 + numerator / c;
    c = std::fabs(c) < 1e-30 ? 1e-30 : c;
    f *= c * d;
    if (std::fabs(1 - c * d) < 1e-12) break;
  }
  return front * (f - 1);
}

}  // namespace

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

double SpearmanPValue(std::span<const double> x, std::span<const double> y) {
  const double rho = Spearman(x, y);
  if (!std::isfinite(rho)) return kNan;
  const size_t n = x.size();
  if (n <= 8) {
    // Every ordering of y is equally likely under no association: count those at least as extreme.
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::vector<double> permuted(n);
    int64_t extreme = 0, total = 0;
    do {
      for (size_t i = 0; i < n; ++i) permuted[i] = y[order[i]];
      const double r = Spearman(x, permuted);
      extreme += std::isfinite(r) && std::fabs(r) >= std::fabs(rho) - 1e-12 ? 1 : 0;
      ++total;
    } while (std::next_permutation(order.begin(), order.end()));
    return static_cast<double>(extreme) / static_cast<double>(total);
  }
  if (std::fabs(rho) >= 1) return 0;
  const double df = static_cast<double>(n) - 2;
  const double t = std::fabs(rho) * std::sqrt(df / (1 - rho * rho));
  // Two-sided Student-t tail: the regularized incomplete beta function I_{df/(df+t^2)}(df/2, 1/2).
  return std::clamp(IncompleteBeta(df / 2, 0.5, df / (df + t * t)), 0.0, 1.0);
}

Proportion WilsonInterval(int k, int n) {
  if (n <= 0) return {kNan, kNan, kNan};
  constexpr double z = 1.959963984540054;
  const double p = static_cast<double>(k) / n;
  const double z2n = z * z / n;
  const double centre = (p + z2n / 2) / (1 + z2n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
  return {p, std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Proportion PairedAccuracyDifference(int right_to_wrong, int wrong_to_right, int n) {
  if (n <= 0) return {kNan, kNan, kNan};
  constexpr double z = 1.959963984540054;
  const double diff = static_cast<double>(wrong_to_right - right_to_wrong) / n;
  const double b = right_to_wrong + 0.5, c = wrong_to_right + 0.5, m = n + 2.0;
  const double adjusted = (c - b) / m;
  const double se = std::sqrt(std::max(0.0, (b + c) - (c - b) * (c - b) / m)) / m;
  return {diff, std::max(-1.0, adjusted - z * se), std::min(1.0, adjusted + z * se)};
}

double McNemarExactP(int right_to_wrong, int wrong_to_right) {
  const int n = right_to_wrong + wrong_to_right;
  if (n == 0) return 1;
  const int k = std::min(right_to_wrong, wrong_to_right);
  if (n <= 52) {
    // Exact: the binomial coefficients are integers below 2^53 and 2^n a power of two.
    std::vector<double> row{1};
    for (int m = 1; m <= n; ++m) {
      std::vector<double> next(m + 1, 1);
      for (int i = 1; i < m; ++i) next[i] = row[i - 1] + row[i];
      row = std::move(next);
    }
    double count = 0;
    for (int i = 0; i <= k; ++i) count += row[i];
    return std::min(1.0, 2 * std::ldexp(count, -n));
  }
  // P[X <= k] for X ~ Binomial(n, 1/2), summed in log space so that large n does not overflow.
  double tail = 0;
  for (int i = 0; i <= k; ++i) {
    tail +=
        std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
  }
  return std::min(1.0, 2 * tail);
}

}  // namespace quantlab::analysis
