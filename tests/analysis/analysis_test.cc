#include "quantlab/analysis/analysis.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/constructed_lab.h"
#include "quantlab/analysis/stats.h"

namespace quantlab::analysis {
namespace {

TEST(StatsTest, SpearmanAndTCritical) {
  std::vector<double> x{1, 2, 3, 4, 5}, y{2, 4, 6, 8, 100}, z{5, 4, 3, 2, 1};
  EXPECT_NEAR(Spearman(x, y), 1.0, 1e-12);
  EXPECT_NEAR(Spearman(x, z), -1.0, 1e-12);
  EXPECT_TRUE(std::isnan(Spearman(x, std::vector<double>{1, 1, 1, 1, 1})));
  EXPECT_NEAR(TCritical95(1), 12.706, 1e-3);
  EXPECT_NEAR(TCritical95(100), 1.984, 2e-3);
  const auto ranks = Ranks(std::vector<double>{10, 20, 20, 5});
  EXPECT_EQ(ranks, (std::vector<double>{2, 3.5, 3.5, 1}));
}

TEST(StatsTest, PairedIntervalCoversTheTrueDifference) {
  std::vector<double> a{1.0, 2.0, 3.0, 4.0}, b{0.9, 1.8, 2.9, 3.9};
  const auto d = PairedMeanDifference(a, b);
  EXPECT_EQ(d.n, 4);
  EXPECT_NEAR(d.mean, 0.125, 1e-12);
  EXPECT_LT(d.lo, 0.125);
  EXPECT_GT(d.hi, 0.125);
}

TEST(AnalysisTest, PairedCiIsTightAndContainsTheIncrease) {
  const Analysis a = Analyze(MakeLab(Typical()));
  const FormatPoint* q4 = a.Point("Q4_K_M");
  ASSERT_NE(q4, nullptr);
  EXPECT_NEAR(q4->loss_pct, (std::exp(0.02) - 1) * 100, 0.05);
  EXPECT_LT(q4->loss_lo, q4->loss_pct);
  EXPECT_GT(q4->loss_hi, q4->loss_pct);
  // Chunk-to-chunk spread (0.3 nats) dwarfs the paired noise (0.001): the per-format ± must be far wider.
  const Table* t = a.FindTable("perplexity");
  ASSERT_NE(t, nullptr);
  for (const auto& row : t->rows) {
    if (row[0].text != "Q4_K_M") continue;
    const double pm_pct = row[4].value / row[3].value * 100;
    EXPECT_GT(pm_pct, 10 * (q4->loss_hi - q4->loss_lo));
  }
}

TEST(AnalysisTest, OrderedLabHasNoDominatedFormatAndFindsTheKnee) {
  const Analysis a = Analyze(MakeLab(Typical()));
  EXPECT_EQ(a.quality_front.size(), 7u);
  for (const auto& p : a.points) EXPECT_TRUE(p.dominated_by.empty()) << p.format;
  EXPECT_EQ(a.within_2pct, (std::vector<std::string>{"Q8_0", "Q6_K", "Q5_K_M"}));
  // Worst marginal trade is the last step down: Q3_K_M loses 5 points for 4 MB.
  EXPECT_EQ(a.eliminate, "Q3_K_M");
  // Scaled: Q5_K_M is 1 - 0.145 - 0.099 = 0.76 below the chord, the most of any interior point.
  EXPECT_EQ(a.sweet_spot, "Q5_K_M");
  EXPECT_EQ(a.findings.size(), 1u);
  EXPECT_NE(a.findings[0].find("No anomalies"), std::string::npos);
}

TEST(AnalysisTest, DominatedFormatIsFlaggedAndEliminated) {
  auto specs = Typical();
  specs[3].loss_nll = 0.025;  // Q5_K_M now loses more than the smaller Q4_K_M
  const Analysis a = Analyze(MakeLab(specs));
  const FormatPoint* q5 = a.Point("Q5_K_M");
  ASSERT_NE(q5, nullptr);
  EXPECT_FALSE(q5->on_front);
  EXPECT_EQ(q5->dominated_by, "Q4_K_M");  // smaller and better (Q4_K_S is smaller but worse)
  EXPECT_EQ(a.eliminate, "Q5_K_M");
  EXPECT_EQ(std::count(a.quality_front.begin(), a.quality_front.end(), "Q5_K_M"), 0);
  bool reported = false;
  for (const auto& f : a.findings) reported |= f.find("Q5_K_M is dominated") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(AnalysisTest, SpeedThatDoesNotFollowSizeIsAFinding) {
  auto specs = Typical();
  specs[6].tg = 15;  // Q3_K_M slower than Q8_0
  const Analysis a = Analyze(MakeLab(specs));
  bool found = false;
  for (const auto& f : a.findings) found |= f.find("Q3_K_M (24.00 MB) generates at 15.0 tok/s, slower than the larger Q8_0") != std::string::npos;
  EXPECT_TRUE(found);
  // Q3_K_M, the smallest, stays on the size-speed front anyway; Q4_K_S (smaller and faster than Q8_0) too.
  EXPECT_EQ(std::count(a.speed_front.begin(), a.speed_front.end(), "Q4_K_S"), 1);
}

TEST(ScoreTest, WeightsMoveTheWinnerWhereTheyShould) {
  std::vector<FormatPoint> pts(3);
  pts[0] = {.format = "big", .is_base = true, .bytes = 100, .loss_pct = 0, .tg_tps = 10};
  pts[1] = {.format = "mid", .bytes = 50, .loss_pct = 1, .tg_tps = 30};
  pts[2] = {.format = "small", .bytes = 20, .loss_pct = 20, .tg_tps = 20};
  EXPECT_EQ(Winner(Score(pts, {0, 1, 0})), "big");
  EXPECT_EQ(Winner(Score(pts, {1, 0, 0})), "small");
  EXPECT_EQ(Winner(Score(pts, {0, 0, 1})), "mid");
  const WinnerMap map = MapWinners(pts, 0.05);
  EXPECT_EQ(map.points.size(), 231u);
  EXPECT_EQ(map.share.size(), 3u);
  double total = 0;
  for (const auto& [name, share] : map.share) total += share;
  EXPECT_NEAR(total, 1.0, 1e-9);
  // A format that is worse on every metric than another never wins anywhere.
  pts.push_back({.format = "junk", .bytes = 60, .loss_pct = 5, .tg_tps = 5});
  EXPECT_EQ(MapWinners(pts, 0.05).share.count("junk"), 0u);
}

TEST(ScoreTest, SpeedFirstWeightsChangeTheWinnerInALabWhereSpeedDiffers) {
  auto specs = Typical();
  // Make Q8_0 by far the fastest: speed-first weights should pick it, the lab's weights a smaller one.
  specs[1].tg = 60;
  const Analysis a = Analyze(MakeLab(specs));
  EXPECT_EQ(a.speed_first_winner, "Q8_0");
  const auto& s = a.scores;
  ASSERT_FALSE(s.empty());
  EXPECT_FALSE(a.winner.empty());
  bool answered = false;
  for (const auto& ans : a.answers) {
    if (ans.id == "score") {
      answered = true;
      EXPECT_NE(ans.answer.find(a.winner == a.speed_first_winner ? "does not change" : "changes"),
                std::string::npos);
    }
  }
  EXPECT_TRUE(answered);
}

TEST(AnalysisTest, RamBudgetLimitsTheRecommendation) {
  auto lab = MakeLab(Typical());
  lab.ram_budget_bytes = 40'000'000;  // predicted RAM = 1.2 x size: only Q4_K_M and smaller fit (36 MB)
  const Analysis a = Analyze(lab);
  EXPECT_EQ(a.fits_budget, (std::vector<std::string>{"Q4_K_M", "Q4_K_S", "Q3_K_M"}));
  EXPECT_TRUE(a.recommendation == "Q4_K_M" || a.recommendation == "Q4_K_S" || a.recommendation == "Q3_K_M");
}

TEST(AnalysisTest, StarsFollowTheStatedRules) {
  EXPECT_EQ(QualityStars(0.2), 5);
  EXPECT_EQ(QualityStars(0.9), 4);
  EXPECT_EQ(QualityStars(2.5), 3);
  EXPECT_EQ(QualityStars(9), 2);
  EXPECT_EQ(QualityStars(11), 1);
  EXPECT_EQ(StarsFromScore(0.0), 1);
  EXPECT_EQ(StarsFromScore(1.0), 5);
  EXPECT_EQ(StarsFromScore(0.5), 3);
  const Analysis a = Analyze(MakeLab(Typical()));
  const Table* t = a.FindTable("decision");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->rows.front()[0].text, "F16");
  EXPECT_EQ(t->rows.front()[5].value, 1);  // largest: one size star
  EXPECT_EQ(t->rows.front()[6].value, 5);  // base: five quality stars
  EXPECT_EQ(t->rows.back()[5].value, 5);   // smallest
}

TEST(AnalysisTest, GreedyAgreementAndCorrelation) {
  auto lab = MakeLab(Typical());
  for (size_t f = 0; f < lab.formats.size(); ++f) {
    for (int p = 0; p < 3; ++p) {
      GenerationSample s;
      s.format = lab.formats[f].name;
      s.prompt_index = p;
      // Divergence comes earlier the more a format loses: agreement = 20 - 2 * f tokens.
      for (int t = 0; t < 20; ++t)
        s.greedy_tokens.push_back(t < 20 - 2 * static_cast<int>(f) - p ? t : 1000 + t);
      lab.samples.push_back(s);
    }
  }
  const Analysis a = Analyze(lab);
  const Table* t = a.FindTable("generation");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->rows.size(), 18u);
  EXPECT_EQ(t->rows[0][2].value, 18);  // Q8_0, prompt 1: 20 - 2
  bool found = false;
  for (const auto& ans : a.answers) {
    if (ans.id == "correlation") {
      found = true;
      EXPECT_NE(ans.answer.find("+1.00 over the 6 per-format means"), std::string::npos) << ans.answer;
    }
  }
  EXPECT_TRUE(found);
}

TEST(AnalysisTest, MinimumFormatPerDomain) {
  auto lab = MakeLab(Typical());
  // A second domain where every quantized format loses ten times more.
  lab.datasets.push_back("code");
  const size_t n = lab.perplexity.size();
  for (size_t i = 0; i < n; ++i) {
    PerplexityResult p = lab.perplexity[i];
    p.dataset = "code";
    const double extra = Typical()[i].loss_nll * 9;
    for (size_t c = 0; c < p.chunk_nll_sum.size(); ++c) p.chunk_nll_sum[c] += extra * 64;
    lab.perplexity.push_back(p);
  }
  const Analysis a = Analyze(lab);
  const Table* t = a.FindTable("min_format");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][1].text, "Q5_K_M");  // prose, <=1%: 0.8% increase
  EXPECT_EQ(t->rows[1][1].text, "F16");     // code, <=1%: even Q8_0 loses exp(0.01)-1 = 1.005%
  EXPECT_EQ(t->rows[1][3].text, "Q5_K_M");  // code, <=10%: exp(0.08)-1 = 8.3%; Q4_K_M would be 22%
}

}  // namespace
}  // namespace quantlab::analysis
