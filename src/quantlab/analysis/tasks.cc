// Task accuracy as decisions: each format's accuracy on each task set with its interval, its answers
// paired with the base's (flips both ways, McNemar's exact test), whether a use case can accept it, and
// whether perplexity or KLD rank the formats the way their task flips do.
#include <algorithm>
#include <cmath>
#include <map>

#include "quantlab/analysis/decisions.h"
#include "quantlab/analysis/stats.h"

namespace quantlab::analysis {
namespace {

const TaskResult* BaseTasks(const LabResults& r, const std::string& task_set) {
  const FormatInfo* base = r.Base();
  return base ? r.Task(base->name, task_set) : nullptr;
}

}  // namespace

std::vector<TaskComparison> CompareTasks(const LabResults& r) {
  std::vector<TaskComparison> out;
  for (const std::string& set : r.task_sets) {
    const TaskResult* base = BaseTasks(r, set);
    std::map<int64_t, bool> base_right;
    if (base) {
      for (size_t i = 0; i < base->tasks.size(); ++i) base_right[base->tasks[i]] = base->correct[i] != 0;
    }
    for (const FormatInfo& f : r.formats) {
      const TaskResult* t = r.Task(f.name, set);
      if (!t || t->tasks.empty()) continue;
      TaskComparison c;
      c.format = f.name;
      c.task_set = set;
      c.is_base = f.is_base;
      c.n = static_cast<int>(t->tasks.size());
      c.correct = static_cast<int>(std::count(t->correct.begin(), t->correct.end(), uint8_t{1}));
      const Proportion acc = WilsonInterval(c.correct, c.n);
      c.accuracy = acc.value;
      c.acc_lo = acc.lo;
      c.acc_hi = acc.hi;
      if (base) {
        for (size_t i = 0; i < t->tasks.size(); ++i) {
          const auto b = base_right.find(t->tasks[i]);
          if (b == base_right.end()) continue;
          ++c.n_paired;
          const bool right = t->correct[i] != 0;
          c.right_to_wrong += b->second && !right ? 1 : 0;
          c.wrong_to_right += !b->second && right ? 1 : 0;
        }
        const Proportion change = PairedAccuracyDifference(c.right_to_wrong, c.wrong_to_right, c.n_paired);
        c.change_pts = 100 * change.value;
        c.change_lo = 100 * change.lo;
        c.change_hi = 100 * change.hi;
        c.mcnemar_p = McNemarExactP(c.right_to_wrong, c.wrong_to_right);
        c.differs = !c.is_base && c.mcnemar_p < 0.05;
      }
      out.push_back(c);
    }
  }
  return out;
}

bool TasksRuleOut(const std::vector<TaskComparison>& tasks, const std::string& format, double max_drop_pts) {
  return std::any_of(tasks.begin(), tasks.end(), [&](const TaskComparison& c) {
    return c.format == format && !c.is_base && std::isfinite(c.change_hi) && c.change_hi < -max_drop_pts;
  });
}

bool TasksConfirm(const std::vector<TaskComparison>& tasks, const std::string& format, double max_drop_pts) {
  return std::all_of(tasks.begin(), tasks.end(), [&](const TaskComparison& c) {
    // Unpaired results (no base figures) confirm nothing.
    return c.format != format || c.is_base || (std::isfinite(c.change_lo) && c.change_lo >= -max_drop_pts);
  });
}

TaskCorrelation CorrelateTasks(const std::vector<FormatPoint>& points,
                               const std::vector<TaskComparison>& tasks) {
  TaskCorrelation out;
  std::vector<double> flips, loss, flips_kld, kld;
  for (const FormatPoint& p : points) {
    if (p.is_base) continue;
    int changed = 0, paired = 0;
    for (const TaskComparison& c : tasks) {
      if (c.format != p.format) continue;
      changed += c.right_to_wrong + c.wrong_to_right;
      paired += c.n_paired;
    }
    if (paired == 0) continue;
    const double rate = static_cast<double>(changed) / paired;
    if (std::isfinite(p.loss_pct)) {
      flips.push_back(rate);
      loss.push_back(p.loss_pct);
    }
    if (std::isfinite(p.kld)) {
      flips_kld.push_back(rate);
      kld.push_back(p.kld);
    }
  }
  out.n_formats = static_cast<int>(flips.size());
  out.rho_ppl = Spearman(loss, flips);
  out.p_ppl = SpearmanPValue(loss, flips);
  out.rho_kld = Spearman(kld, flips_kld);
  out.p_kld = SpearmanPValue(kld, flips_kld);
  double orderings = 1;
  for (int i = 2; i <= out.n_formats; ++i) orderings *= i;
  out.min_p = out.n_formats >= 2 ? std::min(1.0, 2 / orderings) : kNaN;
  return out;
}

}  // namespace quantlab::analysis
