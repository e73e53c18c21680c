// Small statistics used by the analysis: moments, a t-based confidence interval for paired
// differences, and Spearman's rank correlation.
#pragma once

#include <span>
#include <vector>

namespace quantlab::analysis {

double Mean(std::span<const double> x);
// Sample standard deviation (n - 1); NaN for fewer than two values.
double StdDev(std::span<const double> x);

// Two-sided 95% critical value of Student's t with `df` degrees of freedom (exact table to 30, a
// Cornish-Fisher expansion beyond, which is within 1e-3 there).
double TCritical95(int df);

// Mean of paired differences with a 95% t-interval. With fewer than two pairs the interval is NaN.
struct PairedDifference {
  int n = 0;
  double mean = 0;
  double stderr_ = 0;
  double lo = 0;
  double hi = 0;
};
PairedDifference PairedMeanDifference(std::span<const double> a, std::span<const double> b);  // a - b

// Ranks 1..n with ties given their average rank.
std::vector<double> Ranks(std::span<const double> x);
// Spearman's rho (Pearson correlation of the ranks); NaN when either side is constant or n < 3.
double Spearman(std::span<const double> x, std::span<const double> y);
double Pearson(std::span<const double> x, std::span<const double> y);

}  // namespace quantlab::analysis
