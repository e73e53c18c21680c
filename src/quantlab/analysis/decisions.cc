// The decisions between the fronts and the words: regime, thresholds, recommendation, elimination,
// minimum formats and findings. Fronts and scores are in front_score.cc.
#include "quantlab/analysis/decisions.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "quantlab/analysis/detail.h"
#include "quantlab/analysis/stats.h"
#include "quantlab/analysis/ties.h"

namespace quantlab::analysis {
namespace {

bool Finite(double v) { return std::isfinite(v); }

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const FormatPoint* Find(const std::vector<FormatPoint>& points, const std::string& format) {
  for (const auto& p : points) {
    if (p.format == format) return &p;
  }
  return nullptr;
}

const FormatPoint* BaseOf(const std::vector<FormatPoint>& points) {
  for (const auto& p : points) {
    if (p.is_base) return &p;
  }
  return nullptr;
}

// KLD of a against b, paired over the primary data set's chunks; a tie without per-chunk figures.
Order CompareKld(const FormatPoint& a, const FormatPoint& b) {
  const size_t n = std::min(a.chunk_kld.size(), b.chunk_kld.size());
  if (n < 2) return Order::kTied;
  const auto d = PairedMeanDifference(std::span(a.chunk_kld).first(n), std::span(b.chunk_kld).first(n));
  if (!Finite(d.lo) || !Finite(d.hi)) return Order::kTied;
  if (d.hi < 0) return Order::kBetter;
  if (d.lo > 0) return Order::kWorse;
  return Order::kTied;
}

void SpeedFindings(const std::vector<FormatPoint>& points, SpeedRegime regime, uint64_t llc_bytes,
                   std::vector<Finding>& out) {
  std::vector<const FormatPoint*> timed;
  for (const auto& p : points) {
    if (Finite(p.tg_tps)) timed.push_back(&p);
  }
  if (timed.size() < 2) return;
  if (regime == SpeedRegime::kOverheadBound) {
    // values: the cache, the largest format that fits in it, the largest format timed.
    double largest = 0, largest_fitting = 0;
    for (auto* p : timed) {
      if (!Finite(p->bytes)) continue;
      largest = std::max(largest, p->bytes);
      if (p->bytes <= static_cast<double>(llc_bytes)) largest_fitting = std::max(largest_fitting, p->bytes);
    }
    out.push_back({Finding::Kind::kSpeedOverheadBound,
                   "",
                   {},
                   {static_cast<double>(llc_bytes), largest_fitting, largest}});
    return;
  }
  bool any_established = false;
  for (auto* p : timed) {
    std::vector<std::string> faster_and_larger;
    for (auto* q : timed) {
      if (p == q) continue;
      const Order o = CompareSpeed(*p, *q);
      any_established |= o != Order::kTied;
      if (o == Order::kWorse && p->bytes < q->bytes) faster_and_larger.push_back(q->format);
    }
    if (!faster_and_larger.empty()) {
      out.push_back({Finding::Kind::kSpeedNotFollowingSize, p->format, faster_and_larger, {}});
    }
  }
  if (!any_established) out.push_back({Finding::Kind::kSpeedNotEstablished, "", {}, {}});
}

}  // namespace

SpeedRegime ClassifySpeed(const std::vector<FormatPoint>& points, uint64_t llc_bytes) {
  bool any_speed = false, any_fits = false;
  for (const auto& p : points) {
    if (!Finite(p.tg_tps)) continue;
    any_speed = true;
    any_fits |= Finite(p.bytes) && p.bytes <= static_cast<double>(llc_bytes);
  }
  if (!any_speed || llc_bytes == 0) return SpeedRegime::kUnknown;
  return any_fits ? SpeedRegime::kOverheadBound : SpeedRegime::kMemoryBound;
}

bool SpeedCounts(SpeedRegime regime) { return regime != SpeedRegime::kOverheadBound; }

std::vector<std::string> WithinTwoPercent(const std::vector<FormatPoint>& points) {
  std::vector<std::string> within;
  for (const auto& p : points) {
    if (!p.is_base && Finite(p.loss_pct) && p.loss_pct <= 2.0) within.push_back(p.format);
  }
  return within;
}

std::vector<std::string> FitsBudget(const std::vector<FormatPoint>& points, uint64_t budget_bytes) {
  std::vector<std::string> fits;
  for (const auto& p : points) {
    if (Finite(p.ram_bytes) && (budget_bytes == 0 || p.ram_bytes <= static_cast<double>(budget_bytes)))
      fits.push_back(p.format);
  }
  return fits;
}

std::string Recommend(const std::vector<ScoreRow>& scores, const std::vector<std::string>& front,
                      const std::vector<std::string>& fits_budget) {
  std::vector<std::string> candidates;
  for (const auto& f : front) {
    if (Contains(fits_budget, f)) candidates.push_back(f);
  }
  return Winner(OnlyFormats(scores, candidates));
}

Elimination Eliminate(const std::vector<FormatPoint>& points, const std::vector<std::string>& front,
                      const std::vector<std::string>& keep) {
  Elimination e;
  auto kept = [&](const std::string& format) {
    return std::find(keep.begin(), keep.end(), format) != keep.end();
  };
  // Among dominated formats, the one that wastes most bytes for no established gain: an exact figure,
  // where ranking by the quality gap would rank differences inside the noise.
  double waste = -INFINITY;
  for (const auto& p : points) {
    const FormatPoint* d = Find(points, p.dominated_by);
    if (!d || kept(p.format)) continue;
    if (p.bytes - d->bytes > waste) {
      waste = p.bytes - d->bytes;
      e = {p.format, d->format, kNaN};
    }
  }
  if (!e.format.empty()) return e;
  double worst = -INFINITY;
  for (size_t i = 0; i + 1 < front.size(); ++i) {
    const FormatPoint* p = Find(points, front[i]);
    const FormatPoint* q = Find(points, front[i + 1]);
    if (!p || !q || kept(p->format)) continue;
    const double cost = (p->loss_pct - q->loss_pct) / ((q->bytes - p->bytes) / 1e6);
    if (cost > worst) {
      worst = cost;
      e = {p->format, "", cost};
    }
  }
  return e;
}

std::string MinimumFormat(const LabResults& r, const std::vector<FormatPoint>& points,
                          const std::string& dataset, double max_loss_pct,
                          const std::vector<TaskComparison>* tasks, double max_drop_pts) {
  std::vector<const FormatPoint*> sorted;
  for (const auto& p : points) {
    if (Finite(p.bytes)) sorted.push_back(&p);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](auto* x, auto* y) { return x->bytes < y->bytes; });
  for (auto* p : sorted) {
    const auto c = detail::ComparePpl(r, p->format, dataset);
    const double bound = p->is_base ? 0.0 : (Finite(c.ci_hi) ? c.ci_hi : c.increase_pct);
    if (tasks && TasksRuleOut(*tasks, p->format, max_drop_pts)) continue;
    if (Finite(bound) && bound <= max_loss_pct) return p->format;
  }
  return "none";
}

std::vector<std::vector<std::string>> MinimumFormats(const LabResults& r,
                                                     const std::vector<FormatPoint>& points,
                                                     const std::vector<TaskComparison>* tasks) {
  static_assert(std::size(kUseCaseMaxLossPct) == std::size(kUseCaseMaxAccuracyDropPts));
  std::vector<std::vector<std::string>> out;
  for (const auto& ds : r.datasets) {
    out.emplace_back();
    for (size_t k = 0; k < std::size(kUseCaseMaxLossPct); ++k) {
      out.back().push_back(
          MinimumFormat(r, points, ds, kUseCaseMaxLossPct[k], tasks, kUseCaseMaxAccuracyDropPts[k]));
    }
  }
  return out;
}

std::vector<Finding> FindFindings(const LabResults& r, const std::vector<FormatPoint>& points,
                                  SpeedRegime regime) {
  std::vector<Finding> out;
  const FormatPoint* base = BaseOf(points);
  for (const auto& p : points) {
    if (!p.dominated_by.empty()) out.push_back({Finding::Kind::kDominated, p.format, {p.dominated_by}, {}});
  }
  for (const auto& p : points) {
    if (base && !p.is_base && Finite(p.loss_pct) && CompareQuality(p, *base) == Order::kBetter)
      out.push_back({Finding::Kind::kBetterThanBase, p.format, {}, {p.loss_pct}});
  }
  // A domain hurts a format more when its paired interval there lies wholly above the primary one's.
  for (size_t i = 1; i < r.datasets.size(); ++i) {
    for (const auto& p : points) {
      if (p.is_base) continue;
      const auto primary = detail::ComparePpl(r, p.format, r.datasets.front());
      const auto other = detail::ComparePpl(r, p.format, r.datasets[i]);
      if (Finite(other.increase_pct) && Finite(primary.increase_pct) && other.increase_pct > 0.5 &&
          other.increase_pct > 2 * std::max(primary.increase_pct, 0.1) && other.ci_lo > primary.ci_hi) {
        out.push_back({Finding::Kind::kDomainSensitive,
                       p.format,
                       {r.datasets[i]},
                       {other.increase_pct, primary.increase_pct}});
      }
    }
  }
  for (const auto& p : points) {
    for (const auto& q : points) {
      if (p.is_base || q.is_base || &p == &q) continue;
      if (CompareQuality(p, q) == Order::kWorse && CompareKld(p, q) == Order::kBetter)
        out.push_back({Finding::Kind::kPplKldDisagree, p.format, {q.format}, {}});
    }
  }
  SpeedFindings(points, regime, r.machine.llc_bytes, out);
  std::vector<std::string> tied;
  for (const auto& p : points) {
    if (base && !p.is_base && Finite(p.loss_pct) && CompareQuality(p, *base) == Order::kTied)
      tied.push_back(p.format);
  }
  if (!tied.empty()) out.push_back({Finding::Kind::kTiedWithBase, "", tied, {}});
  // Notable first: what changes a decision, then what qualifies the figures.
  std::stable_partition(out.begin(), out.end(), [](const Finding& f) {
    return f.kind != Finding::Kind::kSpeedOverheadBound && f.kind != Finding::Kind::kSpeedNotEstablished &&
           f.kind != Finding::Kind::kTiedWithBase;
  });
  return out;
}

}  // namespace quantlab::analysis
