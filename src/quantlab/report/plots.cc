#include "quantlab/report/plots.h"

#include <cmath>

#include <fmt/format.h>

#include "quantlab/report/charts.h"

namespace quantlab::report {

std::vector<Plot> BuildPlots(const analysis::LabResults& r, const analysis::Analysis& a) {
  using analysis::kNaN;
  std::vector<Plot> plots;
  const std::string primary = a.primary_dataset;

  ScatterChart ppl{fmt::format("Size vs perplexity ({})", primary),
                   "file size (MB)",
                   fmt::format("perplexity on {}", primary),
                   {},
                   a.quality_front,
                   "size-quality Pareto front"};
  ScatterChart speed{
      "Size vs generation speed", "file size (MB)", "generation (tg) tokens/s", {}, a.speed_front,
      "size-speed Pareto front"};
  BarChart kld{
      fmt::format("Mean KL divergence vs {} ({})", r.base_format, primary), "mean KLD (nats/token)", {}};
  bool any_speed = false, any_kld = false;
  for (size_t i = 0; i < r.formats.size(); ++i) {
    const auto& f = r.formats[i];
    const double mb = static_cast<double>(f.file_bytes) / 1e6;
    if (const auto* p = r.Ppl(f.name, primary)) {
      const double pm = p->Ppl() * 1.96 * p->LogPplStderr();
      ppl.points.push_back({f.name, mb, p->Ppl(), std::isfinite(pm) ? pm : 0.0, i});
    }
    if (const auto* s = r.Speed(f.name); s && std::isfinite(s->tg_tps)) {
      speed.points.push_back({f.name, mb, s->tg_tps, std::isfinite(s->tg_stddev) ? s->tg_stddev : 0.0, i});
      any_speed = true;
    }
    if (const auto* k = r.Kld(f.name, primary); k && !f.is_base) {
      kld.bars.push_back({f.name, 0, k->mean_kld, 0, i});
      any_kld = any_kld || std::isfinite(k->mean_kld);
    }
  }
  // The front in the plot follows the y it shows: PPL on the primary data set.
  plots.push_back({"size_vs_ppl", ppl.title, 720, 440,
                   [ppl](cairo_t* cr, double w, double h) { DrawScatter(cr, w, h, ppl); }});
  if (any_speed) {
    plots.push_back({"size_vs_speed", speed.title, 720, 440,
                     [speed](cairo_t* cr, double w, double h) { DrawScatter(cr, w, h, speed); }});
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
