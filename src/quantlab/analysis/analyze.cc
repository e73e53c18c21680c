// Analyze(): the figures, then each decision in order (decisions.h), then the words (wording.cc).
#include "quantlab/analysis/analysis.h"

#include <algorithm>

#include "quantlab/analysis/decisions.h"
#include "quantlab/analysis/detail.h"

namespace quantlab::analysis {

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

Analysis Analyze(const LabResults& results) {
  LabResults r = results;
  detail::FillAgreement(r);
  Analysis a;
  a.primary_dataset = r.datasets.empty() ? "" : r.datasets.front();
  a.points = BuildPoints(r, a.primary_dataset);
  a.task_comparisons = CompareTasks(r);

  a.speed_regime = ClassifySpeed(a.points, r.machine.llc_bytes);
  const bool speed_counts = SpeedCounts(a.speed_regime);
  a.quality_front = MarkQualityFront(a.points);
  a.speed_front = SpeedFront(a.points);
  a.within_2pct = WithinTwoPercent(a.points);
  a.fits_budget = FitsBudget(a.points, r.ram_budget_bytes);
  a.scores = Score(a.points, r.weights, speed_counts);
  // Where no speed difference counts, speed-first weights would only re-weigh size against quality under
  // a speed-first name: they are not applied.
  a.speed_decides = speed_counts && std::any_of(a.scores.begin(), a.scores.end(), [&](const ScoreRow& s) {
                      return s.speed_score != a.scores.front().speed_score;
                    });
  a.speed_first_scores = a.speed_decides ? Score(a.points, kSpeedFirstWeights, true) : a.scores;
  // Winners are chosen on the size-quality front: a format that costs bytes for no established quality
  // is not worth shipping whatever the weights.
  a.winner = Winner(OnlyFormats(a.scores, a.quality_front));
  a.speed_first_winner = Winner(OnlyFormats(a.speed_first_scores, a.quality_front));
  a.winner_map = MapWinners(a.points, a.quality_front, speed_counts, 0.05);
  a.recommendation = Recommend(a.scores, a.quality_front, a.fits_budget);
  a.sweet_spot = KneeOfFront(a.points, a.quality_front);
  a.minimum_formats_ppl_only = MinimumFormats(r, a.points);
  a.minimum_formats = a.task_comparisons.empty() ? a.minimum_formats_ppl_only
                                                 : MinimumFormats(r, a.points, &a.task_comparisons);
  a.task_correlation = CorrelateTasks(a.points, a.task_comparisons);
  std::vector<std::string> advised{a.recommendation, a.sweet_spot};
  for (const auto& per_dataset : a.minimum_formats)
    advised.insert(advised.end(), per_dataset.begin(), per_dataset.end());
  a.eliminate = Eliminate(a.points, a.quality_front, advised);
  a.findings = FindFindings(r, a.points, a.speed_regime);

  a.tables = detail::MeasurementTables(r, a);
  detail::PhraseDecisions(r, a);
  return a;
}

}  // namespace quantlab::analysis
