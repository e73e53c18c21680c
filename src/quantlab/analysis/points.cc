// Per-format figures with their uncertainty, from LabResults.
#include <algorithm>
#include <cmath>

#include "quantlab/analysis/decisions.h"
#include "quantlab/analysis/detail.h"
#include "quantlab/analysis/stats.h"
#include "quantlab/analysis/ties.h"

namespace quantlab::analysis {

namespace detail {

std::vector<double> ChunkMeans(const PerplexityResult& p) {
  std::vector<double> m;
  for (size_t i = 0; i < p.chunk_nll_sum.size() && i < p.chunk_tokens.size(); ++i) {
    m.push_back(p.chunk_tokens[i] > 0 ? p.chunk_nll_sum[i] / static_cast<double>(p.chunk_tokens[i]) : 0.0);
  }
  return m;
}

PplComparison ComparePpl(const LabResults& r, const std::string& format, const std::string& dataset) {
  PplComparison c;
  const PerplexityResult* base = r.Base() ? r.Ppl(r.Base()->name, dataset) : nullptr;
  const PerplexityResult* p = r.Ppl(format, dataset);
  if (!p) return c;
  c.ppl = p->Ppl();
  c.ppl_pm = c.ppl * TCritical95(std::max<int>(1, static_cast<int>(p->chunks()) - 1)) * p->LogPplStderr();
  c.chunks = static_cast<int>(p->chunks());
  if (!base) return c;
  const auto a = ChunkMeans(*p);
  const auto b = ChunkMeans(*base);
  const size_t n = std::min(a.size(), b.size());
  // With adaptive precision the base holds more chunks than a format that stopped early; the increase
  // compares the same (first n) chunks.
  if (base->chunks() > n) {
    PerplexityResult same = *base;
    same.chunk_nll_sum.resize(n);
    same.chunk_tokens.resize(n);
    c.base_ppl = same.Ppl();
  } else {
    c.base_ppl = base->Ppl();
  }
  const auto d = PairedMeanDifference(std::span(a).first(n), std::span(b).first(n));
  c.paired_n = d.n;
  // exp(mean of per-chunk NLL differences) is the PPL ratio when the chunks hold equal token counts,
  // as they do in the lab; the interval maps through the same exp.
  c.increase_pct = (c.ppl / c.base_ppl - 1.0) * 100.0;
  c.ci_lo = (std::exp(d.lo) - 1.0) * 100.0;
  c.ci_hi = (std::exp(d.hi) - 1.0) * 100.0;
  if (format == base->format) c.ci_lo = c.ci_hi = 0.0;
  return c;
}

void FillAgreement(LabResults& r) {
  const FormatInfo* base = r.Base();
  if (!base) return;
  for (auto& s : r.samples) {
    if (s.agreement_tokens >= 0) continue;
    const GenerationSample* b = r.Sample(base->name, s.prompt_index);
    if (!b || b->greedy_tokens.empty()) continue;
    const size_t n = std::min(b->greedy_tokens.size(), s.greedy_tokens.size());
    size_t i = 0;
    while (i < n && b->greedy_tokens[i] == s.greedy_tokens[i]) ++i;
    s.agreement_tokens = static_cast<int>(i);
    const bool identical = i == n && b->greedy_tokens.size() == s.greedy_tokens.size();
    s.first_divergence = identical ? -1 : static_cast<int>(i);
  }
}

}  // namespace detail

namespace {

// With several data sets the quality decisions pool the paired per-chunk differences of all of them
// (ties.h), so the increase and the interval shown are the pooled ones too: exp(mean difference) - 1 with
// its paired interval. One data set keeps the ratio of perplexities from ComparePpl (equal when the
// chunks hold equal token counts).
void PoolIncreaseOverDatasets(std::vector<FormatPoint>& points, size_t n_datasets) {
  if (n_datasets < 2) return;
  const auto base =
      std::find_if(points.begin(), points.end(), [](const FormatPoint& p) { return p.is_base; });
  if (base == points.end()) return;
  for (auto& p : points) {
    if (p.is_base) continue;
    std::vector<double> d;
    for (size_t ds = 0; ds < p.chunk_nll.size() && ds < base->chunk_nll.size(); ++ds) {
      const auto& a = p.chunk_nll[ds];
      const auto& b = base->chunk_nll[ds];
      for (size_t i = 0; i < a.size() && i < b.size(); ++i) d.push_back(a[i] - b[i]);
    }
    if (d.size() < 2) continue;
    const std::vector<double> zeros(d.size(), 0.0);
    const auto diff = PairedMeanDifference(d, zeros);
    p.loss_pct = (std::exp(diff.mean) - 1.0) * 100.0;
    p.loss_lo = (std::exp(diff.lo) - 1.0) * 100.0;
    p.loss_hi = (std::exp(diff.hi) - 1.0) * 100.0;
  }
}

}  // namespace

std::vector<FormatPoint> BuildPoints(const LabResults& r, const std::string& primary) {
  std::vector<FormatPoint> points;
  for (const auto& f : r.formats) {
    FormatPoint p;
    p.format = f.name;
    p.is_base = f.is_base || f.name == r.base_format;
    p.bytes = f.file_bytes ? static_cast<double>(f.file_bytes) : kNaN;
    double sum = 0;
    int n = 0;
    for (const auto& ds : r.datasets) {
      const auto c = detail::ComparePpl(r, f.name, ds);
      if (std::isfinite(c.increase_pct)) {
        sum += c.increase_pct;
        ++n;
      }
      if (ds == primary) {
        p.loss_lo = c.ci_lo;
        p.loss_hi = c.ci_hi;
      }
      const PerplexityResult* ppl = r.Ppl(f.name, ds);
      p.chunk_nll.push_back(ppl ? detail::ChunkMeans(*ppl) : std::vector<double>{});
    }
    p.loss_pct = n ? sum / n : kNaN;
    if (p.is_base && n) p.loss_pct = 0.0;
    if (const KldResult* k = r.Kld(f.name, primary)) {
      p.kld = k->mean_kld;
      p.chunk_kld = k->chunk_mean_kld;
    }
    if (p.is_base) p.kld = 0.0;
    if (const SpeedResult* s = r.Speed(f.name)) {
      p.tg_tps = s->tg_tps;
      p.pp_tps = s->pp_tps;
      const Interval tg = MeanInterval(s->tg_tps, s->tg_stddev, s->repetitions);
      const Interval pp = MeanInterval(s->pp_tps, s->pp_stddev, s->repetitions);
      p.tg_lo = tg.lo;
      p.tg_hi = tg.hi;
      p.pp_lo = pp.lo;
      p.pp_hi = pp.hi;
      if (s->predicted_ram_bytes) {
        p.ram_bytes = static_cast<double>(s->predicted_ram_bytes);
      } else if (s->peak_rss_bytes) {
        p.ram_bytes = static_cast<double>(s->peak_rss_bytes);
      }
    }
    if (!std::isfinite(p.ram_bytes)) p.ram_bytes = p.bytes;
    points.push_back(p);
  }
  PoolIncreaseOverDatasets(points, r.datasets.size());
  return points;
}

}  // namespace quantlab::analysis
