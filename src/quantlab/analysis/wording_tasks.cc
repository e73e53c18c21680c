// The words for task accuracy: the task table, and the answers on task accuracy and on whether
// perplexity predicts it. Phrased from CompareTasks / CorrelateTasks; nothing here decides.
#include <cmath>

#include <fmt/format.h>

#include "quantlab/analysis/detail.h"

namespace quantlab::analysis::detail {
namespace {

std::string PValueText(double p) {
  if (!std::isfinite(p)) return "n/a";
  return p < 0.001 ? std::string("<0.001") : fmt::format("{:.3f}", p);
}

std::string ChangeText(const TaskComparison& c) {
  return fmt::format("{:+.1f} pts (95% CI {:+.1f} to {:+.1f})", c.change_pts, c.change_lo, c.change_hi);
}

std::string RhoText(double rho, double p) {
  if (!std::isfinite(rho)) return "undefined (a constant side)";
  return fmt::format("{:+.2f} (exact p = {})", rho, PValueText(p));
}

// What one correlation establishes, in words that never claim more than its p-value allows.
std::string CorrelationVerdict(const char* what, double rho, double p, const TaskCorrelation& c) {
  if (!std::isfinite(rho)) return fmt::format("{}: no correlation can be computed.", what);
  if (c.min_p >= 0.05) {
    return fmt::format(
        "{}: rho {}; with {} quantized formats even a perfect ranking has p >= {:.3f}, so no correlation can "
        "be established either way.",
        what, RhoText(rho, p), c.n_formats, c.min_p);
  }
  if (p < 0.05) {
    return fmt::format("{}: rho {}, established ({} the task flips).", what, RhoText(rho, p),
                       rho > 0 ? "it ranks the formats as" : "it ranks the formats against");
  }
  return fmt::format(
      "{}: rho {}, not established: over {} formats this is compatible with no relation at all.", what,
      RhoText(rho, p), c.n_formats);
}

}  // namespace

void PhraseTasks(const LabResults& r, Analysis& a) {
  if (a.task_comparisons.empty()) return;
  Table t{
      "tasks",
      "Task accuracy and flips vs the base",
      fmt::format("Accuracy with its Wilson 95% interval. Right->wrong: tasks the base ({}) answers right "
                  "and this format wrong; wrong->right the reverse. Change = accuracy minus the base's on "
                  "the same tasks (Agresti-Min 95% interval). McNemar p: exact two-sided test that the "
                  "flips lean one way; 'differs' only where p < 0.05.",
                  r.base_format),
      {"Task set", "Format", "Tasks", "Accuracy (%)", "95% CI (%)", "Right->wrong", "Wrong->right",
       "Change vs base (pts)", "Change 95% CI (pts)", "McNemar p", "Differs from base"},
      {}};
  std::vector<std::string> basis, differing;
  for (const TaskComparison& c : a.task_comparisons) {
    const bool paired = !c.is_base && c.n_paired > 0;
    t.rows.push_back(
        {Cell::Text(c.task_set), Cell::Text(c.format), Cell::Num(c.n, 0), Cell::Num(100 * c.accuracy, 1),
         Cell::Text(fmt::format("{:.1f} to {:.1f}", 100 * c.acc_lo, 100 * c.acc_hi)),
         paired ? Cell::Num(c.right_to_wrong, 0) : Cell::Text("-"),
         paired ? Cell::Num(c.wrong_to_right, 0) : Cell::Text("-"),
         paired ? Cell::Num(c.change_pts, 1) : Cell::Text("-"),
         paired ? Cell::Text(fmt::format("{:+.1f} to {:+.1f}", c.change_lo, c.change_hi)) : Cell::Text("-"),
         paired ? Cell::Num(c.mcnemar_p, PValueText(c.mcnemar_p)) : Cell::Text("-"),
         Cell::Text(c.is_base   ? "(base)"
                    : !paired   ? "not paired"
                    : c.differs ? "yes"
                                : "not established")});
    if (!paired) continue;
    basis.push_back(fmt::format("{} {}: {:.1f}%, {} right->wrong, {} wrong->right, p {}", c.task_set,
                                c.format, 100 * c.accuracy, c.right_to_wrong, c.wrong_to_right,
                                PValueText(c.mcnemar_p)));
    if (c.differs) differing.push_back(fmt::format("{} on {} ({})", c.format, c.task_set, ChangeText(c)));
  }
  a.tables.push_back(t);
  std::string answer;
  if (differing.empty()) {
    answer = fmt::format(
        "No format answers the tasks differently from the base by an established amount (McNemar's exact "
        "test, p < 0.05, on {} task set(s)); the flips that occur are compatible with chance. This does not "
        "show the formats equal: the change intervals in the table bound how large a loss these tasks can "
        "rule out.",
        r.task_sets.size());
  } else {
    std::string list;
    for (size_t i = 0; i < differing.size(); ++i) list += (i ? "; " : "") + differing[i];
    answer = fmt::format(
        "Established (McNemar's exact test, p < 0.05): {}. Elsewhere the flips are "
        "compatible with chance.",
        list);
  }
  std::string joined;
  for (size_t i = 0; i < basis.size(); ++i) joined += (i ? "; " : "") + basis[i];
  a.answers.push_back(
      {"tasks", "Does any format answer the tasks differently from the base?", answer, joined});

  const TaskCorrelation& c = a.task_correlation;
  if (c.n_formats < 2) return;
  a.answers.push_back(
      {"task_correlation", "Does perplexity predict task quality?",
       fmt::format("Over {} quantized formats, Spearman's rho against the task flips (right->wrong plus "
                   "wrong->right, pooled over the task sets): {} {}",
                   c.n_formats, CorrelationVerdict("PPL increase", c.rho_ppl, c.p_ppl, c),
                   CorrelationVerdict("mean KLD", c.rho_kld, c.p_kld, c)),
       "Exact permutation p-values over all orderings of the formats; a rank correlation over this few "
       "formats says whether the orderings agree, not how much task accuracy a given increase costs."});
}

}  // namespace quantlab::analysis::detail
