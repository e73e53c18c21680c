// Which differences between two formats are established, and scores that treat the rest as ties.
//
// A difference is established when a 95% interval excludes "no difference":
// - quality: the paired t-interval of the per-chunk NLL differences between the two formats (the same
//   chunks of the same text, pooled over the data sets) excludes zero; without chunks, the two formats'
//   paired intervals against the base (loss_lo..loss_hi) are disjoint;
// - speed: the two formats' 95% intervals of the mean (t over the repetitions) are disjoint, which is
//   conservative for independent runs; without repetitions nothing is established;
// - size and memory are exact, so every difference counts.
#pragma once

#include <functional>
#include <vector>

#include "quantlab/analysis/analysis.h"

namespace quantlab::analysis {

enum class Order { kBetter, kTied, kWorse };  // of the first format against the second

// Lower perplexity is better.
Order CompareQuality(const FormatPoint& a, const FormatPoint& b);
// Faster generation is better.
Order CompareSpeed(const FormatPoint& a, const FormatPoint& b);
// True when the format's perplexity differs from the base's by an established amount.
bool QualityDiffersFromBase(const FormatPoint& p);

// Tie groups: the formats with a finite value, ordered best first, cut greedily into runs in which no
// two members differ by an established amount (each run as long as possible, starting from the best).
// Returns, per point, the mean value of its group (NaN where the value is not finite): formats that
// cannot be told apart share one value, while the distance between groups keeps its magnitude.
std::vector<double> TieGroupValues(
    const std::vector<FormatPoint>& points, const std::function<double(const FormatPoint&)>& value,
    bool higher_is_better, const std::function<Order(const FormatPoint&, const FormatPoint&)>& compare);

// 95% interval of a mean throughput from its standard deviation over `n` runs; {NaN, NaN} when n < 2.
// Speed noise is multiplicative (a busy machine slows a run by a factor), so the t-interval is taken on
// the log scale (delta method: half-width t * cv / sqrt(n)) and mapped back: mean * exp(+-half). It is
// the plain t-interval to first order when the runs agree, and never reaches zero or below when they do
// not (a throughput of -46 tok/s is no bound at all).
struct Interval {
  double lo = kNaN;
  double hi = kNaN;
};
Interval MeanInterval(double mean, double stddev, int n);

}  // namespace quantlab::analysis
