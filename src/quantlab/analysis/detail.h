// Internal pieces shared by the analysis' files.
#pragma once

#include <string>
#include <vector>

#include "quantlab/analysis/analysis.h"

namespace quantlab::analysis::detail {

struct PplComparison {
  double ppl = kNaN;
  double ppl_pm = kNaN;
  double base_ppl = kNaN;
  double increase_pct = kNaN;
  double ci_lo = kNaN;
  double ci_hi = kNaN;
  int chunks = 0;
  int paired_n = 0;
};

std::vector<double> ChunkMeans(const PerplexityResult& p);
PplComparison ComparePpl(const LabResults& r, const std::string& format, const std::string& dataset);
// Fills agreement_tokens / first_divergence of every sample against the base's greedy tokens.
void FillAgreement(LabResults& r);

// The measurement tables (tables.cc): size, perplexity, KLD, Pareto, speed.
std::vector<Table> MeasurementTables(const LabResults& r, const Analysis& a);
// Phrases the decisions already in `a` (wording.cc): answers, decision tables, findings, reasoning,
// caveats and summary. Decides nothing.
void PhraseDecisions(const LabResults& r, Analysis& a);
// The task table and answers (wording_tasks.cc); nothing without task results.
void PhraseTasks(const LabResults& r, Analysis& a);

}  // namespace quantlab::analysis::detail
