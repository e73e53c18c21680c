// Formatting helpers and the measurement tables: the figures as measured, before any decision.
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

std::string StarString(int stars) {
  if (stars <= 0) return "n/a";
  std::string s;
  for (int i = 0; i < 5; ++i) s += i < stars ? "\u2605" : "\u2606";
  return s;
}

namespace {

using detail::ComparePpl;

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
  Table t{"perplexity",
          "Perplexity and increase vs base",
          "PPL = exp(mean NLL) over the chunks each format took: the same chunks for every format (with "
          "adaptive precision, the first ones of one random order, each format stopping once ranked; its "
          "increase is against the base on the same chunks). '±' is the format's own 95% interval; the "
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
          "KLD(base || format) per token, Δp = p_format(correct token) - p_base(correct token). Rel. SE = "
          "standard error of the mean KLD over the chunks / mean (the precision reached).",
          {"Format", "Data set", "Tokens", "Mean KLD", "Median KLD", "P99 KLD", "Max KLD", "Mean Δp (%)",
           "RMS Δp (%)", "Same top (%)", "Mean KLD rel. SE (%)"},
          {}};
  for (const auto& k : r.kld) {
    const auto& chunks = k.chunk_mean_kld;
    const double rel_se = chunks.size() >= 2 && Mean(chunks) > 0
                              ? StdDev(chunks) / std::sqrt(double(chunks.size())) / Mean(chunks) * 100
                              : kNaN;
    t.rows.push_back({Cell::Text(k.format), Cell::Text(k.dataset), Cell::Num(double(k.tokens), 0),
                      Cell::Num(k.mean_kld, 6), Cell::Num(k.median_kld, 6), Cell::Num(k.p99_kld, 6),
                      Cell::Num(k.max_kld, 6), Cell::Num(k.mean_delta_p * 100, 3),
                      Cell::Num(k.rms_delta_p * 100, 3), Cell::Num(k.same_top_fraction * 100, 2),
                      Cell::Num(rel_se, 2)});
  }
  return t;
}

Table SpeedTable(const LabResults& r, const Analysis& a) {
  Table t{
      "speed",
      "Speed and memory",
      fmt::format("Prompt processing (pp) and generation (tg) in tokens/s, mean ± standard deviation over "
                  "the runs, {} threads; tg 95% CI = t-interval of the mean over the runs (none with fewer "
                  "than two runs: then no speed difference counts as established); speedup = format / base. "
                  "RAM = predicted need at the lab's context of {} tokens.",
                  r.machine.threads, r.context),
      {"Format", "pp tok/s", "pp ±", "tg tok/s", "tg ±", "Runs", "tg 95% CI low", "tg 95% CI high",
       "pp speedup", "tg speedup", "Peak RSS", "RAM needed", "Fits budget"},
      {}};
  const SpeedResult* base = r.Base() ? r.Speed(r.Base()->name) : nullptr;
  for (const auto& p : a.points) {
    const SpeedResult* s = r.Speed(p.format);
    if (!s) continue;
    const bool fits = std::find(a.fits_budget.begin(), a.fits_budget.end(), p.format) != a.fits_budget.end();
    t.rows.push_back({Cell::Text(p.format), Cell::Num(s->pp_tps, 1), Cell::Num(s->pp_stddev, 1),
                      Cell::Num(s->tg_tps, 1), Cell::Num(s->tg_stddev, 1), Cell::Num(s->repetitions, 0),
                      Cell::Num(p.tg_lo, 1), Cell::Num(p.tg_hi, 1),
                      Cell::Num(base ? s->pp_tps / base->pp_tps : kNaN, 2),
                      Cell::Num(base ? s->tg_tps / base->tg_tps : kNaN, 2),
                      Cell::Num(double(s->peak_rss_bytes), FormatBytes(double(s->peak_rss_bytes))),
                      Cell::Num(p.ram_bytes, FormatBytes(p.ram_bytes)),
                      Cell::Text(r.ram_budget_bytes ? (fits ? "yes" : "no") : "-")});
  }
  return t;
}

Table ParetoTable(const std::vector<FormatPoint>& points, const std::vector<std::string>& front) {
  Table t{
      "pareto",
      "Size-quality Pareto front",
      "Quality loss = PPL increase vs base, averaged over the data sets. Walking from the smallest format "
      "up, a format joins the front only when its quality is established better (paired 95% CI over the "
      "same chunks) than the front's largest member so far; otherwise that member, no larger and not "
      "established worse, dominates it. Marginal cost = extra loss (percentage points) per MB saved "
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

namespace detail {

std::vector<Table> MeasurementTables(const LabResults& r, const Analysis& a) {
  return {SizeTable(r), PerplexityTable(r), KldTable(r), ParetoTable(a.points, a.quality_front),
          SpeedTable(r, a)};
}

}  // namespace detail
}  // namespace quantlab::analysis
