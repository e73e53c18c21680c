// The lab's questions answered from the measurements. Analyze() is a pure function of LabResults: the
// same results always give the same tables, answers and recommendation, so `quantlab report` can
// re-render and `quantlab score` re-score without measuring anything.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "quantlab/analysis/results.h"

namespace quantlab::analysis {

// A table cell: its text as shown, and its value where it is a number (for CSV / JSON).
struct Cell {
  std::string text;
  double value = kNaN;
  static Cell Text(std::string t) { return Cell{std::move(t), kNaN}; }
  static Cell Num(double v, int decimals);
  static Cell Num(double v, std::string text) { return Cell{std::move(text), v}; }
};

struct Table {
  std::string id;  // file name stem: "size", "perplexity", ...
  std::string title;
  std::string note;  // how the figures were derived
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

// One of the lab's questions with its answer; `basis` lists the figures the answer rests on.
struct Answer {
  std::string id;
  std::string question;
  std::string answer;
  std::string basis;
};

// Per format: the figures that the rankings use, each with its uncertainty (size and RAM are exact).
struct FormatPoint {
  std::string format;
  bool is_base = false;
  double bytes = kNaN;
  double loss_pct = kNaN;  // PPL increase vs base, averaged over the data sets, in %
  double loss_lo = kNaN;   // 95% paired CI of the primary data set's increase, in %
  double loss_hi = kNaN;
  double kld = kNaN;  // mean KLD on the primary data set
  double tg_tps = kNaN;
  double tg_lo = kNaN;  // 95% CI of the mean generation speed over the repetitions
  double tg_hi = kNaN;
  double pp_tps = kNaN;
  double pp_lo = kNaN;  // 95% CI of the mean prompt speed over the repetitions
  double pp_hi = kNaN;
  double ram_bytes = kNaN;   // predicted RAM at the lab's context (else peak RSS, else file size)
  bool on_front = false;     // size-quality Pareto front
  std::string dominated_by;  // a format no larger whose quality is not established worse; empty if none
  // Per-chunk mean NLL, one vector per data set in the lab's order: what paired quality comparisons
  // between any two formats are computed from (ties.h). Empty when not measured.
  std::vector<std::vector<double>> chunk_nll;
  std::vector<double> chunk_kld;  // per-chunk mean KLD on the primary data set; may be empty
};

struct ScoreRow {
  std::string format;
  double size_score = kNaN;
  double quality_score = kNaN;
  double speed_score = kNaN;
  double total = kNaN;
};

// The speed-first weighting the report compares the lab's weights with (size / quality / speed).
inline constexpr ScoreWeights kSpeedFirstWeights{0.2, 0.3, 0.5};

// Use cases by the perplexity increase they tolerate, in % (exacting, general use, tolerant).
inline constexpr double kUseCaseMaxLossPct[] = {1.0, 3.0, 10.0};
// The same use cases by the task accuracy they may lose against the base, in percentage points.
inline constexpr double kUseCaseMaxAccuracyDropPts[] = {1.0, 3.0, 10.0};

// One format on one task set, paired with the base on the tasks both scored.
struct TaskComparison {
  std::string format;
  std::string task_set;
  bool is_base = false;
  int n = 0;               // tasks the format scored
  int correct = 0;         // of them, answered right
  double accuracy = kNaN;  // correct / n, as a fraction
  double acc_lo = kNaN;    // Wilson 95% interval
  double acc_hi = kNaN;
  int n_paired = 0;        // tasks both it and the base scored
  int right_to_wrong = 0;  // the base right, this format wrong
  int wrong_to_right = 0;  // the base wrong, this format right
  // This format's accuracy minus the base's on the paired tasks, in percentage points, with its 95%
  // interval (Agresti-Min).
  double change_pts = kNaN;
  double change_lo = kNaN;
  double change_hi = kNaN;
  double mcnemar_p = kNaN;  // exact McNemar test of "answers differently from the base"
  bool differs = false;     // mcnemar_p < 0.05: the flips are established to lean one way
};

// Does perplexity predict task quality? Spearman's rho over the quantized formats between the task flips
// (right->wrong + wrong->right, as a fraction of the paired tasks, pooled over the task sets) and each of
// the PPL increase (primary data set) and the mean KLD, with the exact permutation p-value.
struct TaskCorrelation {
  int n_formats = 0;
  double rho_ppl = kNaN;
  double p_ppl = kNaN;
  double rho_kld = kNaN;
  double p_kld = kNaN;
  // The smallest two-sided p-value any ranking of n_formats can reach (2 / n!): at or above 0.05, no
  // correlation can be established however strong it looks.
  double min_p = kNaN;
};

// Winner of the score over a grid on the weight simplex (size + quality + speed = 1).
struct WinnerMap {
  double step = 0.05;
  struct Point {
    double size, quality, speed;
    std::string winner;
  };
  std::vector<Point> points;
  std::map<std::string, double> share;  // fraction of grid points each format wins
};

// Whether this lab's speeds say anything about speed in general. Weights cross memory once per token, so
// on a model larger than the last-level cache speed is bound by memory bandwidth and falls with size;
// when the weights fit in the cache, per-token overheads dominate instead and the order of speeds on
// this model does not carry over to large models.
enum class SpeedRegime {
  kUnknown,        // no speeds, or the cache size is unknown
  kMemoryBound,    // every format is larger than the last-level cache
  kOverheadBound,  // some format's weights fit in the last-level cache
};

// The format the report tells the reader to drop, and why.
struct Elimination {
  std::string format;            // empty: nothing to eliminate
  std::string dominated_by;      // set when `format` is dominated on size and quality
  double cost_pp_per_mb = kNaN;  // otherwise: the worst trade on the front, loss points per MB saved
};

// A fact worth a reader's attention, as values; wording.cc phrases it.
struct Finding {
  enum class Kind {
    kDominated,              // format is dominated by others[0] (no larger, quality not established worse)
    kBetterThanBase,         // format's perplexity is established lower than the base's
    kDomainSensitive,        // format loses values[0] % on data set others[0] vs values[1] % on the primary
    kPplKldDisagree,         // format is established worse than others[0] on PPL but better on KLD
    kSpeedNotFollowingSize,  // format is established slower than the larger `others` (memory-bound lab)
    kSpeedOverheadBound,     // the weights fit in the cache (values[0] = cache bytes, values[1] = largest)
    kSpeedNotEstablished,    // no speed difference is established (no repetitions or overlapping CIs)
    kTiedWithBase,           // `others`: formats whose quality difference from the base is not established
  };
  Kind kind;
  std::string format;
  std::vector<std::string> others;
  std::vector<double> values;
};

// Analyze()'s output: the figures, the decisions (values, made in the order listed), and their words.
struct Analysis {
  // Figures.
  std::string primary_dataset;
  std::vector<FormatPoint> points;  // in the lab's format order

  // Decisions, in the order Analyze() makes them.
  SpeedRegime speed_regime = SpeedRegime::kUnknown;
  // Speed counts here and some speed difference is established: only then do speed-first weights apply.
  bool speed_decides = false;
  std::vector<std::string> quality_front;  // size-quality Pareto front, small to large
  std::vector<std::string> speed_front;    // size-speed Pareto front, small to large
  std::vector<std::string> within_2pct;
  std::vector<std::string> fits_budget;
  std::vector<ScoreRow> scores;              // with the lab's weights
  std::vector<ScoreRow> speed_first_scores;  // with kSpeedFirstWeights
  std::string winner;                        // best score on the front, lab weights
  std::string speed_first_winner;            // best score on the front, speed-first weights
  WinnerMap winner_map;                      // over the front
  std::string recommendation;                // best score on the front among the formats that fit
  std::string sweet_spot;
  Elimination eliminate;
  // Task accuracy per format and task set (empty without task files).
  std::vector<TaskComparison> task_comparisons;
  TaskCorrelation task_correlation;
  // [data set][use case of kUseCaseMaxLossPct]: the smallest acceptable format, or "none". Where task
  // results are given, a format whose task results establish a drop beyond the use case's
  // kUseCaseMaxAccuracyDropPts is not acceptable (TasksRuleOut); minimum_formats_ppl_only is the answer
  // from perplexity alone.
  std::vector<std::vector<std::string>> minimum_formats;
  std::vector<std::vector<std::string>> minimum_formats_ppl_only;
  std::vector<Finding> findings;  // most notable first

  // Words (wording.cc): only phrase the decisions above.
  std::string reasoning;
  std::vector<std::string> caveats;
  std::vector<std::string> finding_texts;  // one per finding, or one "no anomalies" line
  std::string summary;
  std::vector<Table> tables;
  std::vector<Answer> answers;

  const FormatPoint* Point(const std::string& format) const;
  const Table* FindTable(const std::string& id) const;
};

Analysis Analyze(const LabResults& results);

// The decisions one by one: decisions.h. Which differences count as established: ties.h.

// Formatting helpers shared with the report.
std::string FormatBytes(double bytes);
std::string FormatPct(double pct, int decimals = 2);
std::string StarString(int stars);  // "★★★☆☆" for 3; "n/a" for 0

}  // namespace quantlab::analysis
