#include "quantlab/report/plots.h"

#include <cmath>

#include <fmt/format.h>

#include "quantlab/analysis/detail.h"
#include "quantlab/report/charts.h"

namespace quantlab::report {
namespace {

using analysis::kNaN;

// The primary data set's perplexity increase over the base, in % (the figure its paired CI is about;
// FormatPoint::loss_pct averages over all data sets): the analysis' own comparison, over the same chunks.
double PrimaryIncreasePct(const analysis::LabResults& r, const std::string& format,
                          const std::string& primary) {
  return analysis::detail::ComparePpl(r, format, primary).increase_pct;
}

size_t FormatIndex(const analysis::LabResults& r, const std::string& name) {
  for (size_t i = 0; i < r.formats.size(); ++i) {
    if (r.formats[i].name == name) return i;
  }
  return r.formats.size();
}

ScatterChart LossChart(const analysis::LabResults& r, const analysis::Analysis& a) {
  ScatterChart c{fmt::format("Perplexity increase vs {} ({})", r.base_format, a.primary_dataset),
                 "file size (MB)",
                 fmt::format("PPL increase vs {} (%)", r.base_format),
                 {},
                 a.quality_front,
                 "size-quality Pareto front",
                 "paired 95% CI"};
  std::vector<double> increases;  // of the formats other than the base, which sits at 0 by definition
  for (const auto& p : a.points) {
    const double y = p.is_base ? 0.0 : PrimaryIncreasePct(r, p.format, a.primary_dataset);
    c.points.push_back({p.format, p.bytes / 1e6, y, p.is_base ? kNaN : p.loss_lo,
                        p.is_base ? kNaN : p.loss_hi, FormatIndex(r, p.format)});
    if (!p.is_base) increases.push_back(y);
  }
  c.y_scale = SpreadNeedsLog(increases) ? YScale::kLog : YScale::kLinear;
  return c;
}

// One speed panel; `tg` picks generation, else prompt processing.
ScatterChart SpeedChart(const analysis::LabResults& r, const analysis::Analysis& a, bool tg) {
  ScatterChart c{tg ? "Generation speed (tg)" : "Prompt speed (pp)",
                 "file size (MB)",
                 tg ? "generation tokens/s" : "prompt tokens/s",
                 {},
                 tg ? a.speed_front : std::vector<std::string>{},
                 tg ? "size-speed Pareto front" : "",
                 "95% CI over the repetitions",
                 YScale::kLinear};
  for (const auto& p : a.points) {
    c.points.push_back({p.format, p.bytes / 1e6, tg ? p.tg_tps : p.pp_tps, tg ? p.tg_lo : p.pp_lo,
                        tg ? p.tg_hi : p.pp_hi, FormatIndex(r, p.format)});
  }
  return c;
}

bool AnyFinite(const ScatterChart& c) {
  for (const auto& p : c.points) {
    if (std::isfinite(p.y)) return true;
  }
  return false;
}

}  // namespace

std::vector<Plot> BuildPlots(const analysis::LabResults& r, const analysis::Analysis& a) {
  std::vector<Plot> plots;
  const ScatterChart loss = LossChart(r, a);
  plots.push_back({"size_vs_ppl", loss.title, 720, 440,
                   [loss](cairo_t* cr, double w, double h) { DrawScatter(cr, w, h, loss); }});

  const ScatterChart tg = SpeedChart(r, a, true), pp = SpeedChart(r, a, false);
  if (AnyFinite(tg) || AnyFinite(pp)) {
    plots.push_back({"size_vs_speed", "Size vs speed, with 95% CIs", 1000, 440,
                     [tg, pp](cairo_t* cr, double w, double h) {
                       DrawScatter(cr, w / 2, h, tg);
                       cairo_save(cr);
                       cairo_translate(cr, w / 2, 0);
                       DrawScatter(cr, w / 2, h, pp);
                       cairo_restore(cr);
                     }});
  }

  BarChart kld{fmt::format("Mean KL divergence vs {} ({})", r.base_format, a.primary_dataset),
               "mean KLD (nats/token)",
               {},
               YScale::kLog};
  bool any_kld = false;
  for (const auto& p : a.points) {
    if (p.is_base || !r.Kld(p.format, a.primary_dataset)) continue;
    kld.bars.push_back({p.format, 0, p.kld, kNaN, kNaN, FormatIndex(r, p.format)});
    any_kld = any_kld || std::isfinite(p.kld);
  }
  if (any_kld) {
    plots.push_back(
        {"kld", kld.title, 720, 400, [kld](cairo_t* cr, double w, double h) { DrawBars(cr, w, h, kld); }});
  }

  WinnerMapChart map{"Winner of the score over all weights", a.winner_map, {}, r.weights};
  for (const auto& f : r.formats) map.formats.push_back(f.name);
  plots.push_back({"winner_map", map.title, 720, 520,
                   [map](cairo_t* cr, double w, double h) { DrawWinnerMap(cr, w, h, map); }});
  return plots;
}

}  // namespace quantlab::report
