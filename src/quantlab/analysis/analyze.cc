// Builds the per-format figures and the tables from LabResults; answers.cc turns them into answers.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "quantlab/analysis/analysis.h"
#include "quantlab/analysis/detail.h"
#include "quantlab/analysis/stats.h"

namespace quantlab::analysis {

Cell Cell::Num(double v, int decimals) {
  if (!std::isfinite(v)) return Cell{"n/a", kNaN};
  return Cell{fmt::format("{:.{}f}", v, decimals), v};
}

std::string FormatBytes(double bytes) {
  if (!std::isfinite(bytes)) return "n/a";
  if (bytes >= 1e9) return fmt::format("{:.2f} GB", bytes / 1e9);
  if (bytes >= 1e6) return fmt::format("{:.2f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} kB", bytes / 1e3);
  return fmt::format("{:.0f} B", bytes);
}

std::string FormatPct(double pct, int decimals) {
  if (!std::isfinite(pct)) return "n/a";
  return fmt::format("{:+.{}f}%", pct, decimals);
}

const FormatPoint* Analysis::Point(const std::string& format) const {
  for (const auto& p : points) {
    if (p.format == format) return &p;
  }
  return nullptr;
}

const Table* Analysis::FindTable(const std::string& id) const {
  for (const auto& t : tables) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

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
  c.base_ppl = base->Ppl();
  const auto a = ChunkMeans(*p);
  const auto b = ChunkMeans(*base);
  const size_t n = std::min(a.size(), b.size());
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

}  // namespace detail

namespace {

using detail::ComparePpl;

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
      const auto c = ComparePpl(r, f.name, ds);
      if (std::isfinite(c.increase_pct)) {
        sum += c.increase_pct;
        ++n;
      }
      if (ds == primary) {
        p.loss_lo = c.ci_lo;
        p.loss_hi = c.ci_hi;
      }
    }
    p.loss_pct = n ? sum / n : kNaN;
    if (p.is_base && n) p.loss_pct = 0.0;
    if (const KldResult* k = r.Kld(f.name, primary)) p.kld = k->mean_kld;
    if (p.is_base) p.kld = 0.0;
    if (const SpeedResult* s = r.Speed(f.name)) {
      p.tg_tps = s->tg_tps;
      p.pp_tps = s->pp_tps;
      if (s->predicted_ram_bytes) {
        p.ram_bytes = static_cast<double>(s->predicted_ram_bytes);
      } else if (s->peak_rss_bytes) {
        p.ram_bytes = static_cast<double>(s->peak_rss_bytes);
      }
    }
    if (!std::isfinite(p.ram_bytes)) p.ram_bytes = p.bytes;
    points.push_back(p);
  }
  return points;
}

Table SizeTable(const LabResults& r) {
  Table t{"size",
          "Size and compression",
          "Compression = base file size / format file size; bits per weight "
          "over all tensors.",
          {"Format", "File size", "Bytes", "Compression (x)", "Bits/weight", "Size vs base"},
          {}};
  const FormatInfo* base = r.Base();
  for (const auto& f : r.formats) {
    const double ratio = base && f.file_bytes ? double(base->file_bytes) / double(f.file_bytes) : kNaN;
    t.rows.push_back(
        {Cell::Text(f.name), Cell::Text(FormatBytes(double(f.file_bytes))),
         Cell::Num(double(f.file_bytes), 0), Cell::Num(ratio, 2), Cell::Num(f.bits_per_weight, 2),
         Cell::Num(std::isfinite(ratio) ? 100.0 / ratio : kNaN, fmt::format("{:.1f}%", 100.0 / ratio))});
  }
  return t;
}

Table PerplexityTable(const LabResults& r) {
  Table t{
      "perplexity",
      "Perplexity and increase vs base",
      "PPL = exp(mean NLL) over the same chunks for every format. '±' is the format's own 95% interval; the "
      "paired 95% CI is on the increase (t-interval of per-chunk NLL differences vs the base), which is "
      "what ranks formats.",
      {"Format", "Data set", "Chunks", "PPL", "PPL ±95%", "Increase vs base", "Paired 95% CI low",
       "Paired 95% CI high"},
      {}};
  for (const auto& ds : r.datasets) {
    for (const auto& f : r.formats) {
      const auto c = ComparePpl(r, f.name, ds);
      if (!std::isfinite(c.ppl)) continue;
      t.rows.push_back({Cell::Text(f.name), Cell::Text(ds), Cell::Num(c.chunks, 0), Cell::Num(c.ppl, 4),
                        Cell::Num(c.ppl_pm, 4), Cell::Num(c.increase_pct, FormatPct(c.increase_pct, 3)),
                        Cell::Num(c.ci_lo, FormatPct(c.ci_lo, 3)),
                        Cell::Num(c.ci_hi, FormatPct(c.ci_hi, 3))});
    }
  }
  return t;
}

Table KldTable(const LabResults& r) {
  Table t{"kld",
          "KL divergence, Δp and same top token vs base",
          "KLD(base || format) per token, Δp = p_format(correct token) - p_base(correct token).",
          {"Format", "Data set", "Tokens", "Mean KLD", "Median KLD", "P99 KLD", "Max KLD", "Mean Δp (%)",
           "RMS Δp (%)", "Same top (%)"},
          {}};
  for (const auto& k : r.kld) {
    t.rows.push_back({Cell::Text(k.format), Cell::Text(k.dataset), Cell::Num(double(k.tokens), 0),
                      Cell::Num(k.mean_kld, 6), Cell::Num(k.median_kld, 6), Cell::Num(k.p99_kld, 6),
                      Cell::Num(k.max_kld, 6), Cell::Num(k.mean_delta_p * 100, 3),
                      Cell::Num(k.rms_delta_p * 100, 3), Cell::Num(k.same_top_fraction * 100, 2)});
  }
  return t;
}

Table SpeedTable(const LabResults& r, const std::vector<FormatPoint>& points) {
  Table t{
      "speed",
      "Speed and memory",
      fmt::format("Prompt processing (pp) and generation (tg) in tokens/s, mean ± standard deviation over "
                  "repetitions, {} threads; speedup = format / base. RAM = predicted need at the lab's "
                  "context of {} tokens.",
                  r.machine.threads, r.context),
      {"Format", "pp tok/s", "pp ±", "tg tok/s", "tg ±", "pp speedup", "tg speedup", "Peak RSS", "RAM needed",
       "Fits budget"},
      {}};
  const SpeedResult* base = r.Base() ? r.Speed(r.Base()->name) : nullptr;
  for (const auto& p : points) {
    const SpeedResult* s = r.Speed(p.format);
    if (!s) continue;
    std::string fits = r.ram_budget_bytes ? (p.ram_bytes <= double(r.ram_budget_bytes) ? "yes" : "no") : "-";
    t.rows.push_back({Cell::Text(p.format), Cell::Num(s->pp_tps, 1), Cell::Num(s->pp_stddev, 1),
                      Cell::Num(s->tg_tps, 1), Cell::Num(s->tg_stddev, 1),
                      Cell::Num(base ? s->pp_tps / base->pp_tps : kNaN, 2),
                      Cell::Num(base ? s->tg_tps / base->tg_tps : kNaN, 2),
                      Cell::Num(double(s->peak_rss_bytes), FormatBytes(double(s->peak_rss_bytes))),
                      Cell::Num(p.ram_bytes, FormatBytes(p.ram_bytes)), Cell::Text(fits)});
  }
  return t;
}

Table ParetoTable(const std::vector<FormatPoint>& points, const std::vector<std::string>& front) {
  Table t{"pareto",
          "Size-quality Pareto front",
          "Quality loss = PPL increase vs base, averaged over the data sets. A format is dominated when "
          "another is "
          "no larger and no worse, and better in one. Marginal cost = extra loss (percentage points) per MB "
          "saved "
          "relative to the next larger format on the front.",
          {"Format", "Size", "Loss (%)", "On front", "Dominated by", "Marginal cost (pp/MB)"},
          {}};
  for (const auto& p : points) {
    double marginal = kNaN;
    auto it = std::find(front.begin(), front.end(), p.format);
    if (it != front.end() && it + 1 != front.end()) {
      for (const auto& q : points) {
        if (q.format == *(it + 1)) marginal = (p.loss_pct - q.loss_pct) / ((q.bytes - p.bytes) / 1e6);
      }
    }
    t.rows.push_back({Cell::Text(p.format), Cell::Num(p.bytes, FormatBytes(p.bytes)),
                      Cell::Num(p.loss_pct, 3), Cell::Text(p.on_front ? "yes" : "no"),
                      Cell::Text(p.dominated_by.empty() ? "-" : p.dominated_by), Cell::Num(marginal, 4)});
  }
  return t;
}

}  // namespace

Analysis Analyze(const LabResults& results) {
  LabResults r = results;
  detail::FillAgreement(r);
  Analysis a;
  a.primary_dataset = r.datasets.empty() ? "" : r.datasets.front();
  a.points = BuildPoints(r, a.primary_dataset);
  a.quality_front = MarkQualityFront(a.points);
  a.speed_front = detail::SpeedFront(a.points);
  a.tables.push_back(SizeTable(r));
  a.tables.push_back(PerplexityTable(r));
  a.tables.push_back(KldTable(r));
  a.tables.push_back(ParetoTable(a.points, a.quality_front));
  a.tables.push_back(SpeedTable(r, a.points));
  detail::AnswerQuestions(r, a);
  return a;
}

}  // namespace quantlab::analysis
