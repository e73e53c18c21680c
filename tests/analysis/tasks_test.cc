// Task accuracy in the analysis: the statistics on hand-computed cases, the pairing of tasks with the
// base by task number, and the decisions that use task results (minimum formats, the correlation).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "analysis/constructed_lab.h"
#include "quantlab/analysis/analysis.h"
#include "quantlab/analysis/decisions.h"
#include "quantlab/analysis/stats.h"

namespace quantlab::analysis {
namespace {

TEST(TaskStatsTest, McNemarExactOnHandComputedCases) {
  EXPECT_DOUBLE_EQ(McNemarExactP(0, 0), 1.0);             // nothing changed
  EXPECT_NEAR(McNemarExactP(5, 0), 2.0 / 32, 1e-12);      // 2 * 0.5^5
  EXPECT_NEAR(McNemarExactP(0, 6), 2.0 / 64, 1e-12);      // symmetric
  EXPECT_NEAR(McNemarExactP(3, 1), 2.0 * 5 / 16, 1e-12);  // 2 * (C(4,0) + C(4,1)) / 2^4
  EXPECT_DOUBLE_EQ(McNemarExactP(1, 1), 1.0);             // 2 * 3/4, capped
  EXPECT_NEAR(McNemarExactP(12, 0), 2.0 / 4096, 1e-15);
  // A large count stays finite (log-space sums): 200 vs 100 is far from an even split.
  EXPECT_LT(McNemarExactP(200, 100), 1e-7);
  EXPECT_GT(McNemarExactP(200, 100), 0);
}

TEST(TaskStatsTest, WilsonAndPairedDifferenceIntervals) {
  const Proportion w = WilsonInterval(8, 10);
  EXPECT_DOUBLE_EQ(w.value, 0.8);
  EXPECT_NEAR(w.lo, 0.49016, 1e-4);
  EXPECT_NEAR(w.hi, 0.94332, 1e-4);
  const Proportion none = WilsonInterval(0, 20);
  EXPECT_EQ(none.lo, 0.0);
  EXPECT_GT(none.hi, 0.1);  // 0 of 20 does not prove 0%
  EXPECT_TRUE(std::isnan(WilsonInterval(0, 0).value));
  // 2 right->wrong, 1 wrong->right of 6: -1/6; Agresti-Min: (1.5 - 2.5) / 8 -+ 1.96 * sqrt(4 - 1/8) / 8.
  const Proportion d = PairedAccuracyDifference(2, 1, 6);
  EXPECT_NEAR(d.value, -1.0 / 6, 1e-12);
  EXPECT_NEAR(d.lo, -0.125 - 1.959964 * std::sqrt(3.875) / 8, 1e-6);
  EXPECT_NEAR(d.hi, -0.125 + 1.959964 * std::sqrt(3.875) / 8, 1e-6);
  // No change at all still leaves an interval of both signs.
  const Proportion zero = PairedAccuracyDifference(0, 0, 100);
  EXPECT_LT(zero.lo, 0);
  EXPECT_GT(zero.hi, 0);
}

TEST(TaskStatsTest, SpearmanPValueExactAndApproximate) {
  // Four formats in perfect order: 2 of the 24 orderings are as extreme.
  const std::vector<double> x4{1, 2, 3, 4}, y4{10, 20, 30, 40};
  EXPECT_NEAR(SpearmanPValue(x4, y4), 2.0 / 24, 1e-12);
  // Ten points (beyond the exact enumeration): rho = 1 - 6 * 42 / 990 = 0.74545, t = 3.1632 with 8 df,
  // two-sided p = 0.013330 (integrated numerically).
  const std::vector<double> x{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<double> y{3, 1, 2, 6, 4, 10, 5, 9, 8, 7};
  EXPECT_NEAR(Spearman(x, y), 0.745454545, 1e-8);
  EXPECT_NEAR(SpearmanPValue(x, y), 0.0133301, 1e-6);
  EXPECT_NEAR(SpearmanPValue(x, x), 0.0, 1e-12);
}

// The base answers tasks {4,0,2,7,1,3} as {1,1,0,1,0,1}; Q4_K_M scored them in another order plus task 9.
TEST(TaskCompareTest, FlipsArePairedByTaskNumber) {
  LabResults r = MakeLab({{"F16", 100, 0.0, 10}, {"Q4_K_M", 30, 0.02, 25}});
  r.task_sets = {"hellaswag"};
  r.tasks.push_back({"F16", "hellaswag", {4, 0, 2, 7, 1, 3}, {1, 1, 0, 1, 0, 1}});
  r.tasks.push_back({"Q4_K_M", "hellaswag", {0, 1, 2, 3, 4, 7, 9}, {1, 0, 1, 0, 1, 0, 1}});
  const std::vector<TaskComparison> c = CompareTasks(r);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(c[0].is_base);
  EXPECT_EQ(c[0].correct, 4);
  EXPECT_EQ(c[0].right_to_wrong + c[0].wrong_to_right, 0);
  const TaskComparison& q = c[1];
  EXPECT_EQ(q.n, 7);
  EXPECT_EQ(q.correct, 4);
  EXPECT_EQ(q.n_paired, 6);
  EXPECT_EQ(q.right_to_wrong, 2);  // tasks 3 and 7
  EXPECT_EQ(q.wrong_to_right, 1);  // task 2
  EXPECT_NEAR(q.change_pts, -100.0 / 6, 1e-9);
  EXPECT_NEAR(q.mcnemar_p, 1.0, 1e-12);  // 2 * P[X <= 1 | n=3] = 2 * 4/8
  EXPECT_FALSE(q.differs);
  const Analysis a = Analyze(r);
  const Table* t = a.FindTable("tasks");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[1][5].text, "2");
  EXPECT_EQ(t->rows[1][6].text, "1");
  EXPECT_EQ(t->rows[1][10].text, "not established");
}

// 400 tasks; the base answers the first 300 right. A format with `flips` turns that many of them wrong.
TaskResult Answers(const std::string& format, int flips) {
  TaskResult t{format, "hellaswag", {}, {}};
  for (int i = 0; i < 400; ++i) {
    t.tasks.push_back(i);
    t.correct.push_back(i < 300 && i >= flips ? 1 : 0);
  }
  return t;
}

LabResults TypicalWithTasks(const std::vector<int>& flips) {
  LabResults r = MakeLab(Typical());
  r.task_sets = {"hellaswag"};
  for (size_t i = 0; i < r.formats.size(); ++i) r.tasks.push_back(Answers(r.formats[i].name, flips[i]));
  return r;
}

TEST(TaskDecisionTest, MinimumFormatsUseTheTaskResults) {
  // F16, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_K_S, Q3_K_M.
  const LabResults r = TypicalWithTasks({0, 0, 1, 12, 0, 0, 60});
  const Analysis a = Analyze(r);
  // Perplexity alone: Q5_K_M (0.8%), Q4_K_M (2.0%), Q3_K_M (8.3%).
  ASSERT_EQ(a.minimum_formats_ppl_only.size(), 1u);
  EXPECT_EQ(a.minimum_formats_ppl_only[0], (std::vector<std::string>{"Q5_K_M", "Q4_K_M", "Q3_K_M"}));
  // Q5_K_M's 12 flips: a change of -3.0 points, 95% interval -4.7 to -1.25: a drop beyond 1 point is
  // established (ruled out of exacting), one beyond 3 is not. Q6_K's one flip rules nothing out. Q3_K_M's
  // 60 (-14.9, interval -18.4 to -11.4) establish a drop beyond even 10 points, so Q4_K_S is next.
  EXPECT_EQ(a.minimum_formats[0], (std::vector<std::string>{"Q6_K", "Q4_K_M", "Q4_K_S"}));
  EXPECT_TRUE(TasksRuleOut(a.task_comparisons, "Q5_K_M", 1.0));
  EXPECT_FALSE(TasksRuleOut(a.task_comparisons, "Q5_K_M", 3.0));
  EXPECT_TRUE(TasksRuleOut(a.task_comparisons, "Q3_K_M", 10.0));
  EXPECT_FALSE(TasksRuleOut(a.task_comparisons, "Q6_K", 1.0));
  EXPECT_FALSE(TasksRuleOut(a.task_comparisons, "F16", 0.0));  // never the base
  // Confirming is stricter: Q5_K_M's drop may reach 4.7 points, Q6_K's one flip 0.94, no flip 0.49.
  EXPECT_FALSE(TasksConfirm(a.task_comparisons, "Q5_K_M", 3.0));
  EXPECT_TRUE(TasksConfirm(a.task_comparisons, "Q5_K_M", 10.0));
  EXPECT_TRUE(TasksConfirm(a.task_comparisons, "Q6_K", 1.0));
  EXPECT_TRUE(TasksConfirm(a.task_comparisons, "Q4_K_M", 1.0));
  EXPECT_TRUE(TasksConfirm(a.task_comparisons, "F16", 0.0));
  const auto q5 = std::find_if(a.task_comparisons.begin(), a.task_comparisons.end(),
                               [](const TaskComparison& c) { return c.format == "Q5_K_M"; });
  ASSERT_NE(q5, a.task_comparisons.end());
  EXPECT_TRUE(q5->differs);
  EXPECT_NEAR(q5->mcnemar_p, 2.0 / 4096, 1e-15);
  const auto q6 = std::find_if(a.task_comparisons.begin(), a.task_comparisons.end(),
                               [](const TaskComparison& c) { return c.format == "Q6_K"; });
  EXPECT_FALSE(q6->differs);  // one flip establishes nothing
  // The answers say which picks the tasks changed and which formats differ, and only those.
  bool min_said = false, tasks_said = false;
  for (const Answer& ans : a.answers) {
    if (ans.id == "min_format") {
      min_said = ans.answer.find("Exacting: Q6_K instead of Q5_K_M") != std::string::npos &&
                 ans.answer.find("too few to confirm") == std::string::npos;
    }
    if (ans.id == "tasks") {
      tasks_said = ans.answer.find("Q5_K_M on hellaswag") != std::string::npos &&
                   ans.answer.find("Q6_K") == std::string::npos;
    }
  }
  EXPECT_TRUE(min_said);
  EXPECT_TRUE(tasks_said);
}

TEST(TaskDecisionTest, CorrelationSaysWhatFewFormatsCannotEstablish) {
  // Six quantized formats whose flips rise with their increase: rank correlation +1, established.
  const Analysis six = Analyze(TypicalWithTasks({0, 1, 2, 4, 8, 9, 30}));
  EXPECT_EQ(six.task_correlation.n_formats, 6);
  EXPECT_NEAR(six.task_correlation.rho_ppl, 1.0, 1e-12);
  EXPECT_NEAR(six.task_correlation.p_ppl, 2.0 / 720, 1e-12);
  // Three: even a perfect ranking has p = 1/3, and the answer says that nothing is established.
  LabResults three = MakeLab(
      {{"F16", 100, 0.0, 10}, {"Q8_0", 53, 0.001, 18}, {"Q4_K_M", 30, 0.02, 25}, {"Q3_K_M", 24, 0.08, 27}});
  three.task_sets = {"hellaswag"};
  three.tasks = {Answers("F16", 0), Answers("Q8_0", 1), Answers("Q4_K_M", 5), Answers("Q3_K_M", 20)};
  const Analysis a = Analyze(three);
  EXPECT_EQ(a.task_correlation.n_formats, 3);
  EXPECT_NEAR(a.task_correlation.min_p, 1.0 / 3, 1e-12);
  const auto it = std::find_if(a.answers.begin(), a.answers.end(),
                               [](const Answer& x) { return x.id == "task_correlation"; });
  ASSERT_NE(it, a.answers.end());
  EXPECT_NE(it->answer.find("no correlation can be established"), std::string::npos) << it->answer;
  EXPECT_EQ(it->answer.find(", established"), std::string::npos) << it->answer;
}

TEST(TaskDecisionTest, NoTaskFilesLeaveTheAnalysisAsItWas) {
  const LabResults r = MakeLab(Typical());
  const Analysis a = Analyze(r);
  EXPECT_TRUE(a.task_comparisons.empty());
  EXPECT_EQ(a.FindTable("tasks"), nullptr);
  EXPECT_EQ(a.minimum_formats, a.minimum_formats_ppl_only);
}

}  // namespace
}  // namespace quantlab::analysis
