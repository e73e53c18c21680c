#include "quantlab/report/report.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "analysis/constructed_lab.h"
#include "quantlab/report/charts.h"
#include "quantlab/report/text_formats.h"
#include "report/report_checks.h"
#include "support/paths.h"

namespace quantlab::report {
namespace {

using quantlab::testing::ReadAll;

TEST(TextFormatsTest, CsvQuotesAndJsonKeepsNumbers) {
  analysis::Table t{"x", "X", "", {"Name", "Value"}, {}};
  t.rows.push_back({analysis::Cell::Text("a,\"b\""), analysis::Cell::Num(1.5, 1)});
  t.rows.push_back({analysis::Cell::Text("c"), analysis::Cell::Text("n/a")});
  EXPECT_EQ(TableToCsv(t), "Name,Value\n\"a,\"\"b\"\"\",1.5\nc,n/a\n");
  const auto j = TableToJson(t);
  EXPECT_EQ(j["rows"][0]["Value"], 1.5);
  EXPECT_EQ(j["rows"][1]["Value"], "n/a");
  EXPECT_NE(TableToMarkdown(t).find("| a,\"b\" | 1.5 |"), std::string::npos);
}

TEST(TextFormatsTest, WordDiffMarksOnlyChangedWords) {
  EXPECT_EQ(HighlightDifferences("the cat sat on the mat", "the dog sat on the mat"),
            "the <mark>dog</mark> sat on the mat");
  EXPECT_EQ(HighlightDifferences("a b c", "a b c"), "a b c");
  EXPECT_EQ(HighlightDifferences("x", "<y>"), "<mark>&lt;y&gt;</mark>");
}

TEST(ChartsTest, NiceTicks) {
  EXPECT_EQ(NiceTicks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  const auto t = NiceTicks(3.21, 3.87, 6);
  ASSERT_GE(t.size(), 3u);
  EXPECT_NEAR(t[1] - t[0], 0.2, 1e-12);  // 0.66 / 6 = 0.11 rounds up to the next nice step
  EXPECT_GE(t.front(), 3.21);
  EXPECT_DOUBLE_EQ(t.front(), 3.4);
}

TEST(ReportTest, WritesEveryFileWellFormed) {
  auto lab = analysis::MakeLab(analysis::Typical());
  analysis::AddSamples(lab);
  lab.tool_version = "test";
  lab.machine.cpu_model = "Test CPU";
  lab.machine.simd = "AVX2";
  const auto a = analysis::Analyze(lab);
  // The constructed lab's recommendation (tests/analysis): the report must name it, never an empty one.
  ASSERT_EQ(a.recommendation, "Q5_K_M");
  quantlab::testing::TempDir dir;
  auto written = WriteReport(lab, a, dir.path().string());
  ASSERT_TRUE(written.ok()) << written.error().message;

  for (const char* stem : {"size_vs_ppl", "size_vs_speed", "kld", "winner_map"}) {
    EXPECT_TRUE(testing::IsPng(ReadAll(dir / (std::string("plots/") + stem + ".png")))) << stem;
    EXPECT_TRUE(testing::IsSvg(ReadAll(dir / (std::string("plots/") + stem + ".svg")))) << stem;
  }
  const std::string pdf = ReadAll(dir / "recommendation.pdf");
  EXPECT_EQ(pdf.rfind("%PDF", 0), 0u);
  EXPECT_EQ(testing::PdfPageCount(pdf), 1);

  const std::string html = ReadAll(dir / "report.html");
  EXPECT_EQ(testing::HtmlBalanceError(html), "");
  EXPECT_NE(html.find("Recommendation: Q5_K_M</h2>"), std::string::npos);
  EXPECT_NE(html.find("<mark>dog</mark>"), std::string::npos);  // greedy differences highlighted
  EXPECT_NE(html.find("&lt;France&gt;"), std::string::npos);    // prompts escaped
  EXPECT_EQ(html.find("<img"), std::string::npos);              // self-contained: plots inline
  EXPECT_GE(std::count(html.begin(), html.end(), '\n'), 50);
  for (const auto& ans : a.answers) {
    if (ans.id != "summary") {
      EXPECT_NE(html.find(HtmlEscape(ans.question)), std::string::npos) << ans.id;
    }
  }

  for (const auto& t : a.tables) {
    const std::string csv = ReadAll(dir / ("tables/" + t.id + ".csv"));
    EXPECT_EQ(testing::LineCount(csv), static_cast<int>(t.rows.size()) + 1) << t.id;
    const auto j = nlohmann::json::parse(ReadAll(dir / ("tables/" + t.id + ".json")));
    EXPECT_EQ(j["rows"].size(), t.rows.size()) << t.id;
  }
  const std::string md = ReadAll(dir / "report.md");
  EXPECT_NE(md.find("## Recommendation: Q5_K_M\n"), std::string::npos);
  const auto json = nlohmann::json::parse(ReadAll(dir / "analysis.json"));
  EXPECT_EQ(json["recommendation"], "Q5_K_M");
  EXPECT_NE(json["eliminate"], "Q5_K_M");
  EXPECT_NE(md.find("plots/size_vs_ppl.png"), std::string::npos);
  // No temporary files left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
  // For looking at the output by eye: QUANTLAB_TEST_REPORT_DIR=/tmp/x quantlab_report_tests
  if (const char* keep = std::getenv("QUANTLAB_TEST_REPORT_DIR")) {
    ASSERT_TRUE(WriteReport(lab, a, keep).ok());
  }
  // Rendering again gives the same HTML (a pure function of the results).
  EXPECT_EQ(RenderHtml(lab, analysis::Analyze(lab), {}), RenderHtml(lab, a, {}));
}

// With task results, the task table and the task answers reach report.md, report.html and the tables.
TEST(ReportTest, TaskAccuracyReachesEveryOutput) {
  auto lab = analysis::MakeLab(analysis::Typical());
  lab.task_sets = {"hellaswag", "winogrande"};
  for (const auto& set : lab.task_sets) {
    for (size_t f = 0; f < lab.formats.size(); ++f) {
      analysis::TaskResult t{lab.formats[f].name, set, {}, {}};
      for (int i = 0; i < 50; ++i) {
        t.tasks.push_back(i);
        t.correct.push_back(i < 40 && i >= static_cast<int>(f) ? 1 : 0);  // format f loses f tasks
      }
      lab.tasks.push_back(t);
    }
  }
  const auto a = analysis::Analyze(lab);
  quantlab::testing::TempDir dir;
  ASSERT_TRUE(WriteReport(lab, a, dir.path().string()).ok());
  const std::string md = ReadAll(dir / "report.md");
  EXPECT_NE(md.find("### Task accuracy and flips vs the base"), std::string::npos);
  EXPECT_NE(md.find("Does perplexity predict task quality?"), std::string::npos);
  const std::string html = ReadAll(dir / "report.html");
  EXPECT_EQ(testing::HtmlBalanceError(html), "");
  EXPECT_NE(html.find("Task accuracy and flips vs the base"), std::string::npos);
  EXPECT_NE(html.find(HtmlEscape("Right->wrong")), std::string::npos);
  const std::string csv = ReadAll(dir / "tables/tasks.csv");
  EXPECT_EQ(csv.rfind("Task set,Format,Tasks,Accuracy (%),95% CI (%),Right->wrong,Wrong->right,", 0), 0u)
      << csv;
  EXPECT_EQ(testing::LineCount(csv), 1 + 2 * 7);
  // Q3_K_M (the 7th format) loses 6 of the base's 40 right answers on each set.
  EXPECT_NE(csv.find("hellaswag,Q3_K_M,50,68,"), std::string::npos) << csv;
  const auto j = nlohmann::json::parse(ReadAll(dir / "tables/tasks.json"));
  EXPECT_EQ(j["rows"].size(), 2u * 7);
}

TEST(ReportTest, PdfStaysOnOnePageWithLongText) {
  auto lab = analysis::MakeLab(analysis::Typical());
  lab.model_name = std::string(300, 'm');
  auto a = analysis::Analyze(lab);
  for (int i = 0; i < 30; ++i)
    a.caveats.push_back("A long caveat that goes on and on about the measurements. " + std::to_string(i));
  auto pdf = RenderRecommendationPdf(lab, a);
  ASSERT_TRUE(pdf.ok());
  EXPECT_EQ(testing::PdfPageCount(*pdf), 1);
}

}  // namespace
}  // namespace quantlab::report
