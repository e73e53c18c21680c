// The report's four plots, built from the analysis.
#pragma once

#include <string>
#include <vector>

#include "quantlab/analysis/analysis.h"
#include "quantlab/report/canvas.h"

namespace quantlab::report {

struct Plot {
  std::string stem;  // file name without extension
  std::string title;
  double width = 720;
  double height = 440;
  DrawFn draw;
};

// size_vs_ppl: perplexity increase vs the base (%) with its paired 95% CI against size (log y when the
// increases span a wide range); size_vs_speed (when speeds were measured): generation and prompt speed
// with their 95% CIs, side by side; kld (when KLD was measured): mean KLD per format on a log scale;
// winner_map.
std::vector<Plot> BuildPlots(const analysis::LabResults& results, const analysis::Analysis& analysis);

}  // namespace quantlab::report
