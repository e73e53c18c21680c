// Small statistics used by the analysis: moments, a t-based confidence interval for paired
// differences, Spearman's rank correlation with its exact test, and the statistics of right/wrong
// answers (Wilson interval, paired difference, McNemar's exact test).
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
// Two-sided p-value of Spearman's rho against "no association": exact over all n! orderings of y for
// n <= 8 (ties kept as they are), else the t approximation with n - 2 degrees of freedom. NaN where rho is.
double SpearmanPValue(std::span<const double> x, std::span<const double> y);

// Wilson's 95% score interval of a proportion `k` of `n` (well behaved at 0 and n, unlike the Wald
// interval); {NaN, NaN} for n = 0.
struct Proportion {
  double value = 0;
  double lo = 0;
  double hi = 0;
};
Proportion WilsonInterval(int k, int n);

// Two answers per item (a reference and a candidate, right or wrong) over n paired items, of which
// `right_to_wrong` the reference got right and the candidate wrong, and `wrong_to_right` the reverse.
// The candidate's accuracy minus the reference's, (wrong_to_right - right_to_wrong) / n, with the
// Agresti-Min 95% interval (the Wald interval after adding 1/2 to each of the four cells; it does not
// collapse to a point when no item changed). NaN for n = 0.
Proportion PairedAccuracyDifference(int right_to_wrong, int wrong_to_right, int n);

// McNemar's exact test: two-sided p-value that the discordant items split as unevenly as
// `right_to_wrong` : `wrong_to_right` or more if each went either way with probability 1/2 (binomial,
// min(1, 2 * P[X <= min])); 1 when there is no discordant item.
double McNemarExactP(int right_to_wrong, int wrong_to_right);

}  // namespace quantlab::analysis
