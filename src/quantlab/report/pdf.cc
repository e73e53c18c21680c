// The one-page recommendation: what to ship, why, the key figures, one plot and the caveats, laid out on
// an A4 page. Each block is placed below the previous one; the plot's height is what gives way when the
// text runs long, so the page never overflows onto a second one.
#include <cmath>

#include <fmt/format.h>

#include "quantlab/report/canvas.h"
#include "quantlab/report/plots.h"
#include "quantlab/report/report.h"

namespace quantlab::report {
namespace {

constexpr double kPageW = 595, kPageH = 842, kMargin = 40;

double KeyTable(cairo_t* cr, double y, const analysis::LabResults& r, const analysis::Analysis& a) {
  const char* headers[] = {"Format",   "Size",     "PPL increase", "95% paired CI",
                           "Mean KLD", "tg tok/s", "Score"};
  const double xs[] = {kMargin,       kMargin + 70,  kMargin + 145, kMargin + 230,
                       kMargin + 345, kMargin + 415, kMargin + 480};
  SetFont(cr, 9, true);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  for (int i = 0; i < 7; ++i) DrawText(cr, xs[i], y, headers[i]);
  cairo_set_line_width(cr, 0.6);
  cairo_move_to(cr, kMargin, y + 4);
  cairo_line_to(cr, kPageW - kMargin, y + 4);
  cairo_stroke(cr);
  y += 16;
  size_t shown = 0;
  for (size_t i = 0; i < a.points.size() && shown < 14; ++i, ++shown) {
    const auto& p = a.points[i];
    const bool rec = p.format == a.recommendation;
    SetFont(cr, 9, rec);
    if (rec) {
      cairo_set_source_rgb(cr, 0.88, 0.95, 0.88);
      cairo_rectangle(cr, kMargin - 3, y - 10, kPageW - 2 * kMargin + 6, 14);
      cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    double score = analysis::kNaN;
    for (const auto& s : a.scores) {
      if (s.format == p.format) score = s.total;
    }
    const std::string ci =
        p.is_base || !std::isfinite(p.loss_lo)
            ? "-"
            : fmt::format("{} .. {}", analysis::FormatPct(p.loss_lo), analysis::FormatPct(p.loss_hi));
    const std::string cells[] = {p.format + (p.is_base ? " (base)" : ""),
                                 analysis::FormatBytes(p.bytes),
                                 p.is_base ? "-" : analysis::FormatPct(p.loss_pct),
                                 ci,
                                 std::isfinite(p.kld) ? fmt::format("{:.5f}", p.kld) : "n/a",
                                 std::isfinite(p.tg_tps) ? fmt::format("{:.1f}", p.tg_tps) : "n/a",
                                 std::isfinite(score) ? fmt::format("{:.3f}", score) : "n/a"};
    for (int c = 0; c < 7; ++c) DrawText(cr, xs[c], y, cells[c]);
    y += 14;
  }
  return y;
}

void DrawPage(cairo_t* cr, const analysis::LabResults& r, const analysis::Analysis& a) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  const double width = kPageW - 2 * kMargin;
  double y = kMargin + 14;
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  SetFont(cr, 17, true);
  DrawText(cr, kMargin, y, "quantlab recommendation: " + r.model_name);
  y += 16;
  SetFont(cr, 8.5);
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
  y = DrawWrapped(cr, kMargin, y, width,
                  fmt::format("{}, {} formats, data: {}, context {} tokens.", r.ReferenceText(),
                              r.formats.size(), r.datasets.empty() ? "none" : r.datasets.front(), r.context),
                  11);
  y += 10;
  cairo_set_source_rgb(cr, 0.16, 0.54, 0.16);
  cairo_rectangle(cr, kMargin, y - 2, 5, 30);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  SetFont(cr, 22, true);
  DrawText(cr, kMargin + 14, y + 22,
           "Ship " + (a.recommendation.empty() ? std::string("(none)") : a.recommendation));
  y += 46;
  SetFont(cr, 9.5);
  y = DrawWrapped(cr, kMargin, y, width, a.reasoning, 13) + 8;
  y = KeyTable(cr, y, r, a) + 6;

  // Text below the plot, measured first so that the plot takes what is left.
  SetFont(cr, 9);
  std::vector<std::string> caveats = a.caveats;
  double below = 16 + 12 * 2;  // headings
  for (const auto& c : caveats) below += 12 * std::ceil(TextWidth(cr, c) / (width - 12) + 0.3);
  below += 12 * std::ceil(TextWidth(cr, a.summary) / width + 0.3) + 30;
  const double plot_h = std::clamp(kPageH - kMargin - y - below, 120.0, 300.0);
  for (const auto& plot : BuildPlots(r, a)) {
    if (plot.stem != "size_vs_ppl") continue;
    cairo_save(cr);
    cairo_translate(cr, kMargin, y);
    cairo_rectangle(cr, 0, 0, width, plot_h);
    cairo_clip(cr);
    const double scale = width / plot.width;
    cairo_scale(cr, scale, scale);
    plot.draw(cr, plot.width, plot_h / scale);
    cairo_restore(cr);
  }
  y += plot_h + 16;
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  SetFont(cr, 10, true);
  DrawText(cr, kMargin, y, "Caveats");
  y += 13;
  SetFont(cr, 9);
  for (const auto& c : caveats) {
    DrawText(cr, kMargin, y, "\u2022");
    y = DrawWrapped(cr, kMargin + 10, y, width - 12, c, 12);
  }
  y += 6;
  SetFont(cr, 10, true);
  DrawText(cr, kMargin, y, "In plain words");
  y += 13;
  SetFont(cr, 9);
  y = DrawWrapped(cr, kMargin, y, width, a.summary, 12);
  SetFont(cr, 7.5);
  cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
  DrawWrapped(cr, kMargin, kPageH - 22, width, MachineLine(r), 9);
}

}  // namespace

Result<std::string> RenderRecommendationPdf(const analysis::LabResults& r, const analysis::Analysis& a) {
  return RenderPdf(kPageW, kPageH, [&](cairo_t* cr, double, double) {
    cairo_rectangle(cr, 0, 0, kPageW, kPageH);
    cairo_clip(cr);
    DrawPage(cr, r, a);
  });
}

}  // namespace quantlab::report
