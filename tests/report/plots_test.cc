#include "quantlab/report/plots.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "analysis/constructed_lab.h"
#include "quantlab/report/canvas.h"
#include "report/report_checks.h"

namespace quantlab::report {
namespace {

struct Rendered {
  std::string png, svg;
};

// The plot `stem` as PNG (deterministic bytes, for comparing drawings) and SVG.
Rendered Render(const analysis::LabResults& lab, const analysis::Analysis& a, const std::string& stem) {
  for (const auto& plot : BuildPlots(lab, a)) {
    if (plot.stem != stem) continue;
    auto png = RenderPng(plot.width, plot.height, plot.draw);
    EXPECT_TRUE(png.ok() && testing::IsPng(*png)) << stem;
    // For looking at the plots by eye: QUANTLAB_TEST_PLOTS_DIR=/tmp/x quantlab_report_tests
    if (const char* keep = std::getenv("QUANTLAB_TEST_PLOTS_DIR"); keep && png.ok()) {
      EXPECT_TRUE(WriteAtomically(std::string(keep) + "/" + stem + ".png", *png).ok());
    }
    auto svg = RenderSvg(plot.width, plot.height, plot.draw);
    EXPECT_TRUE(svg.ok());
    return {png.ok() ? *png : "", svg.ok() ? *svg : ""};
  }
  ADD_FAILURE() << "no plot " << stem;
  return {};
}

TEST(PlotsTest, SpeedCiBarsAreDrawnWhereKnownAndNowhereElse) {
  auto lab = analysis::MakeLab(analysis::Typical());
  auto a = analysis::Analyze(lab);
  for (auto& p : a.points) p.tg_lo = p.tg_hi = p.pp_lo = p.pp_hi = analysis::kNaN;
  const std::string without = Render(lab, a, "size_vs_speed").png;
  // Intervals on the generation panel only; the prompt panel keeps NaN (not measured: no bar).
  for (auto& p : a.points) {
    p.tg_lo = p.tg_tps * 0.93;
    p.tg_hi = p.tg_tps * 1.05;
  }
  const std::string with_tg = Render(lab, a, "size_vs_speed").png;
  EXPECT_NE(with_tg, without);
  // NaN intervals are the same as none: rendering twice without bars gives the same drawing.
  for (auto& p : a.points) p.tg_lo = p.tg_hi = analysis::kNaN;
  EXPECT_EQ(Render(lab, a, "size_vs_speed").png, without);
}

TEST(PlotsTest, EveryPlotRendersWithCrowdedAndDegenerateData) {
  // Formats of nearly the same size and loss (a crowded chart), one with a negative increase (no log
  // scale then), and one without any measurement.
  auto lab = analysis::MakeLab({{"F16", 100, 0.0, 10},
                                {"Q8_0", 53, -0.0002, 18},
                                {"Q6_K", 52.5, 0.0001, 18.2},
                                {"Q5_K_M", 52, 0.0002, 18.1},
                                {"Q5_K_S", 51.8, 0.0003, 18.3},
                                {"Q4_K_M", 51.5, 0.0004, 18.4}});
  lab.formats.push_back({"Q2_K", 0, 0, false, analysis::kNaN});
  const auto a = analysis::Analyze(lab);
  for (const char* stem : {"size_vs_ppl", "size_vs_speed", "kld", "winner_map"}) {
    EXPECT_TRUE(testing::IsSvg(Render(lab, a, stem).svg)) << stem;
  }
}

}  // namespace
}  // namespace quantlab::report
