// The decisions the analysis makes, each a pure function of the figures that returns a value.
// Analyze() calls them in the order they are declared here, each using only what came before; wording.cc
// phrases the results and decides nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quantlab/analysis/analysis.h"

namespace quantlab::analysis {

// 1. Per-format figures with their uncertainty: paired quality CIs, speed CIs over the repetitions.
std::vector<FormatPoint> BuildPoints(const LabResults& r, const std::string& primary);

// 2. Whether speed on this model can rank formats at all (see SpeedRegime). `llc_bytes` 0 = unknown.
SpeedRegime ClassifySpeed(const std::vector<FormatPoint>& points, uint64_t llc_bytes);
// Speed may decide (scores, winners, recommendation) only when it is not overhead-bound.
bool SpeedCounts(SpeedRegime regime);

// 3. Fronts: marks on_front / dominated_by on `points` (size vs quality) and returns the front, small to
// large; the size-speed front likewise (no marks). Definitions at the implementation (front_score.cc).
std::vector<std::string> MarkQualityFront(std::vector<FormatPoint>& points);
std::vector<std::string> SpeedFront(const std::vector<FormatPoint>& points);

// 4. Thresholds: formats within a 2% perplexity increase (point estimate), formats that fit the budget
// (0 = no budget: all with a RAM figure).
std::vector<std::string> WithinTwoPercent(const std::vector<FormatPoint>& points);
std::vector<std::string> FitsBudget(const std::vector<FormatPoint>& points, uint64_t budget_bytes);

// 5. Scores over every format (quality and speed on tie groups, see front_score.cc), the winner among
// `candidates`, and the winner over a grid of weights.
std::vector<ScoreRow> Score(const std::vector<FormatPoint>& points, const ScoreWeights& weights,
                            bool speed_counts = true);
std::string Winner(const std::vector<ScoreRow>& rows);
std::vector<ScoreRow> OnlyFormats(const std::vector<ScoreRow>& rows, const std::vector<std::string>& formats);
WinnerMap MapWinners(const std::vector<FormatPoint>& points, const std::vector<std::string>& candidates,
                     bool speed_counts, double step);

// 6. The recommendation: the best score among the front's formats that fit the budget. By construction
// it is on the size-quality front, hence never dominated; empty when no front format fits.
std::string Recommend(const std::vector<ScoreRow>& scores, const std::vector<std::string>& front,
                      const std::vector<std::string>& fits_budget);

// 7. Knee of the front (the sweet spot): definition at the implementation.
std::string KneeOfFront(const std::vector<FormatPoint>& points, const std::vector<std::string>& front);

// 8. The format to drop: the dominated format that loses most against its dominator; with none
// dominated, the front's worst trade (most loss per MB saved against the next larger front format). Never
// a format in `keep`: the report names those elsewhere as ones to ship (the recommendation, the sweet
// spot, each use case's minimum format), and one page must not both advise and drop a format.
Elimination Eliminate(const std::vector<FormatPoint>& points, const std::vector<std::string>& front,
                      const std::vector<std::string>& keep);

// 1b. Task accuracy of every format on every task set, paired with the base (tasks.cc).
std::vector<TaskComparison> CompareTasks(const LabResults& r);
// Spearman's rho of task flips against PPL increase and KLD over the quantized formats (tasks.cc).
TaskCorrelation CorrelateTasks(const std::vector<FormatPoint>& points,
                               const std::vector<TaskComparison>& tasks);
// Whether the task results establish that `format` loses more than `max_drop_pts` points of accuracy
// against the base on some task set: the whole 95% interval of its change lies below -max_drop_pts.
// Never the base; never a format without paired task results.
bool TasksRuleOut(const std::vector<TaskComparison>& tasks, const std::string& format, double max_drop_pts);
// Whether they confirm the opposite: on every task set the format was scored on, the 95% interval of
// its change stays above -max_drop_pts (its drop's upper bound within the tolerance). With a few hundred
// tasks, a 1-point tolerance is confirmed for no format: even no flip at all leaves an interval of
// about +-1.3 points. The base always is.
bool TasksConfirm(const std::vector<TaskComparison>& tasks, const std::string& format, double max_drop_pts);

// 9. Smallest format whose paired CI upper bound of the PPL increase on `dataset` stays within
// `max_loss_pct` (the point estimate without a CI) and, when `tasks` is given, that the task results do
// not rule out (TasksRuleOut with `max_drop_pts`): perplexity is the evidence that a format is good
// enough, the tasks veto only what they establish; "none" when there is none. MinimumFormats: for every
// data set and every use case of kUseCaseMaxLossPct / kUseCaseMaxAccuracyDropPts.
std::string MinimumFormat(const LabResults& r, const std::vector<FormatPoint>& points,
                          const std::string& dataset, double max_loss_pct,
                          const std::vector<TaskComparison>* tasks = nullptr, double max_drop_pts = 0);
std::vector<std::vector<std::string>> MinimumFormats(const LabResults& r,
                                                     const std::vector<FormatPoint>& points,
                                                     const std::vector<TaskComparison>* tasks = nullptr);

// 10. What is worth a reader's attention, most notable first.
std::vector<Finding> FindFindings(const LabResults& r, const std::vector<FormatPoint>& points,
                                  SpeedRegime regime);

// Stars 1..5 from a score in [0, 1]; quality stars from fixed bands of PPL increase.
int StarsFromScore(double score);
int QualityStars(double loss_pct);

}  // namespace quantlab::analysis
