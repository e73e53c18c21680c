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

// Per format: the figures that the rankings use.
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
  std::string dominated_by;  // a format at most as large and at least as good; empty if none
};

struct ScoreRow {
  std::string format;
  double size_score = kNaN;
  double quality_score = kNaN;
  double speed_score = kNaN;
  double total = kNaN;
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

struct Analysis {
  std::string primary_dataset;
  std::vector<FormatPoint> points;         // in the lab's format order
  std::vector<std::string> quality_front;  // size-quality Pareto front, small to large
  std::vector<std::string> speed_front;    // size-speed Pareto front, small to large
  std::vector<std::string> within_2pct;
  std::string eliminate;
  std::string sweet_spot;
  std::vector<std::string> fits_budget;
  std::vector<ScoreRow> scores;              // with the lab's weights
  std::vector<ScoreRow> speed_first_scores;  // with 20/30/50
  std::string winner;
  std::string speed_first_winner;
  WinnerMap winner_map;
  std::string recommendation;
  std::string reasoning;
  std::vector<std::string> caveats;
  std::vector<std::string> findings;
  std::string summary;
  std::vector<Table> tables;
  std::vector<Answer> answers;

  const FormatPoint* Point(const std::string& format) const;
  const Table* FindTable(const std::string& id) const;
};

Analysis Analyze(const LabResults& results);

// Pieces, exposed for tests and for `quantlab score`.
std::vector<ScoreRow> Score(const std::vector<FormatPoint>& points, const ScoreWeights& weights);
std::string Winner(const std::vector<ScoreRow>& rows);
WinnerMap MapWinners(const std::vector<FormatPoint>& points, double step);
// Marks on_front / dominated_by on `points` (size vs loss_pct) and returns the front, small to large.
std::vector<std::string> MarkQualityFront(std::vector<FormatPoint>& points);
// Knee of the front: see the definition at the implementation.
std::string KneeOfFront(const std::vector<FormatPoint>& points, const std::vector<std::string>& front);
// Stars 1..5 from a score in [0, 1].
int StarsFromScore(double score);
int QualityStars(double loss_pct);
std::string StarString(int stars);

// Formatting helpers shared with the report.
std::string FormatBytes(double bytes);
std::string FormatPct(double pct, int decimals = 2);

}  // namespace quantlab::analysis
