#include "quantlab/lab/precision.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "quantlab/analysis/stats.h"

namespace quantlab::lab {

Precision AssessPrecision(std::span<const double> base_nll, std::span<const double> nll,
                          std::span<const double> kld, const PrecisionTarget& target) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  Precision p;
  const size_t n = std::min(base_nll.size(), nll.size());
  p.chunks = static_cast<int>(n);
  p.ci_half_pp = kNaN;
  p.kld_rel_stderr = kNaN;
  if (n == 0) return p;
  // The same arithmetic as the analysis' paired comparison (points.cc): the interval of the mean
  // per-chunk NLL difference, mapped through exp.
  const analysis::PairedDifference d = analysis::PairedMeanDifference(nll.first(n), base_nll.first(n));
  p.increase_pct = (std::exp(d.mean) - 1.0) * 100.0;
  if (d.n >= 2) p.ci_half_pp = (std::exp(d.hi) - std::exp(d.lo)) / 2.0 * 100.0;
  double damage_pct = std::fabs(p.increase_pct);
  if (!kld.empty()) damage_pct = std::max(damage_pct, (std::exp(analysis::Mean(kld)) - 1.0) * 100.0);
  if (kld.size() >= 2) {
    const double mean = analysis::Mean(kld);
    const double se = analysis::StdDev(kld) / std::sqrt(static_cast<double>(kld.size()));
    p.kld_rel_stderr = mean > 0 ? se / mean : (se == 0 ? 0.0 : kNaN);
  }
  p.ci_half_allowed_pp = std::max(target.ci_half_pp, target.ci_half_of_increase * damage_pct);
  const bool ci_ok = p.ci_half_pp <= p.ci_half_allowed_pp;  // false for NaN
  const bool kld_ok = kld.empty() || p.kld_rel_stderr <= target.kld_rel_stderr;
  p.enough = p.chunks >= target.min_chunks && ci_ok && kld_ok;
  return p;
}

}  // namespace quantlab::lab
