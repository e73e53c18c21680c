// Writes the lab's report into a folder: report.md, a self-contained report.html, recommendation.pdf,
// plots/*.png|svg, tables/*.csv|json and analysis.json. Every file is written atomically.
#pragma once

#include <string>
#include <vector>

#include "quantlab/analysis/analysis.h"
#include "quantlab/report/plots.h"
#include "quantlab/util/result.h"

namespace quantlab::report {

struct RenderedPlot {
  std::string stem;
  std::string title;
  std::string svg;  // the SVG text, for inlining
};

// Returns the paths written.
Result<std::vector<std::string>> WriteReport(const analysis::LabResults& results,
                                             const analysis::Analysis& analysis, const std::string& dir);

// Pieces (exposed for tests).
std::string RenderMarkdown(const analysis::LabResults& r, const analysis::Analysis& a,
                           const std::vector<RenderedPlot>& plots);
std::string RenderHtml(const analysis::LabResults& r, const analysis::Analysis& a,
                       const std::vector<RenderedPlot>& plots);
Result<std::string> RenderRecommendationPdf(const analysis::LabResults& r, const analysis::Analysis& a);
std::string MachineLine(const analysis::LabResults& r);

}  // namespace quantlab::report
