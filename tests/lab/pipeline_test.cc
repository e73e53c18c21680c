// The lab end to end on a tiny synthetic model: resume after stops at many points, re-scoring and
// re-rendering without measuring, perplexities equal to the standalone evaluator's, damaged database.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "quantlab/eval/perplexity.h"
#include "quantlab/lab/lab.h"
#include "quantlab/model/model.h"
#include "quantlab/synth/synth_model.h"
#include "quantlab/util/system_info.h"
#include "report/report_checks.h"
#include "support/paths.h"

namespace quantlab::lab {
namespace {
namespace fs = std::filesystem;

// 2 layers: 2 * 9 + 3 = 21 tensors per quantization.
constexpr int kTensors = 21;

std::string MakeText() {
  const char* words[] = {"the",  "small", "cat", "sat",    "on", "a",
                         "warm", "mat",   "and", "looked", "at", "rain"};
  std::string text;
  uint32_t x = 12345;
  for (int i = 0; i < 900; ++i) {
    x = x * 1103515245u + 12345u;
    text += words[(x >> 16) % 12];
    text += (i % 11 == 10) ? ". " : " ";
  }
  return text;
}

class LabPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    SynthModelSpec spec;
    spec.n_layer = 2;
    spec.n_ctx_train = 256;
    spec.name = "tiny";
    ASSERT_TRUE(WriteSynthModel(spec, (*dir_ / "tiny.gguf").string()).ok());
    std::ofstream(*dir_ / "prose.txt") << MakeText();
  }
  static void TearDownTestSuite() { delete dir_; }

  static LabConfig Config(const std::string& out) {
    LabConfig c;
    c.base_model = (*dir_ / "tiny.gguf").string();
    c.formats = {"F16", "Q8_0", "Q4_K_M"};
    c.data = {{"prose", (*dir_ / "prose.txt").string()}};
    c.prompts = {"the cat", "on a warm"};
    c.n_ctx = 64;
    c.chunks = 3;
    c.threads = 2;
    c.n_predict = 8;
    c.bench_prompt = 32;
    c.bench_gen = 8;
    c.bench_repetitions = 1;
    c.progress = false;
    c.out_dir = out;
    return c;
  }

  // A finished lab, run once for the tests that only read it.
  static const std::string& CleanLab() {
    static std::string out;
    if (out.empty()) {
      out = (*dir_ / "clean").string();
      auto r = RunLab(Config(out));
      EXPECT_TRUE(r.ok()) << r.error().message;
    }
    return out;
  }

  static std::map<std::string, double> RowTimes(const std::string& out) {
    auto store = ResultsStore::Open((fs::path(out) / kResultsFile).string());
    EXPECT_TRUE(store.ok());
    std::map<std::string, double> times;
    auto rows = (*store)->ListRows();
    EXPECT_TRUE(rows.ok());
    for (const auto& r : *rows) {
      times[r.kind + "/" + r.format + "/" + r.dataset_hash.substr(0, 8) + "/" + std::to_string(r.item)] =
          r.created_at;
    }
    return times;
  }

  static testing::TempDir* dir_;
};
testing::TempDir* LabPipelineTest::dir_ = nullptr;

TEST_F(LabPipelineTest, ResumesAfterStopsAtManyPointsWithoutRedoingFinishedWork) {
  const std::string out = (*dir_ / "resumed").string();
  // Units of work: a tensor quantized, a chunk evaluated, a sample generated, a bench run. Each run
  // counts from zero and redoes only what is missing, including the step that was cut.
  const int64_t stops[] = {5,             // inside the first quantization (Q8_0)
                           kTensors + 7,  // Q8_0 again from the start, then inside Q4_K_M
                           kTensors + 1,  // Q4_K_M again, then the first chunk
                           2 + 2,         // the other two chunks, then two samples
                           4 + 1};        // the other four samples, then one bench
  std::map<std::string, double> before;
  bool first_stop = true;
  for (int64_t stop : stops) {
    LabConfig c = Config(out);
    c.stop_after_units = stop;
    auto r = RunLab(c);
    ASSERT_FALSE(r.ok()) << "stop " << stop;
    EXPECT_NE(r.error().message.find("stopped after"), std::string::npos) << r.error().message;
    const auto now = RowTimes(out);
    for (const auto& [key, t] : before) {
      ASSERT_TRUE(now.count(key)) << key << " lost after stop " << stop;
      EXPECT_EQ(now.at(key), t) << key << " was measured again after stop " << stop;
    }
    EXPECT_GE(now.size(), before.size());
    before = now;
    if (first_stop) {
      first_stop = false;
      // The format being quantized left no file behind (written atomically).
      EXPECT_TRUE(fs::is_empty(fs::path(out) / "models")) << "partial quantization left a file";
      EXPECT_EQ(before.size(), 1u);  // only the base's size row
    }
  }
  auto r = RunLab(Config(out));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto final_rows = RowTimes(out);
  for (const auto& [key, t] : before) EXPECT_EQ(final_rows.at(key), t) << key;
  // quantize 3, ppl 3x3, kld 2x3, samples 6, speed 3, ram 3.
  EXPECT_EQ(final_rows.size(), 30u);
  EXPECT_EQ(r->rows_after, 30);
  // Everything not stored before the last run was measured by it (RAM predictions are not counted).
  int64_t ram_before = 0;
  for (const auto& [key, t] : before) ram_before += key.rfind("ram/", 0) == 0;
  EXPECT_EQ(r->measured, 27 - (static_cast<int64_t>(before.size()) - ram_before));

  // A rerun of a finished lab measures nothing.
  auto again = RunLab(Config(out));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->measured, 0);
  EXPECT_EQ(RowTimes(out), final_rows);

  // The interrupted lab's quality figures equal an uninterrupted one's, to the last digit.
  analysis::Analysis resumed, clean;
  ASSERT_TRUE(RenderLabReport(out, std::nullopt, false, &resumed).ok());
  ASSERT_TRUE(RenderLabReport(CleanLab(), std::nullopt, false, &clean).ok());
  for (const char* id : {"size", "perplexity", "kld", "generation"}) {
    const auto* a = resumed.FindTable(id);
    const auto* b = clean.FindTable(id);
    ASSERT_TRUE(a && b) << id;
    ASSERT_EQ(a->rows.size(), b->rows.size()) << id;
    for (size_t i = 0; i < a->rows.size(); ++i) {
      for (size_t j = 0; j < a->rows[i].size(); ++j) EXPECT_EQ(a->rows[i][j].text, b->rows[i][j].text) << id;
    }
  }
}

TEST_F(LabPipelineTest, PerplexitiesEqualTheStandaloneEvaluator) {
  const std::string& out = CleanLab();
  analysis::Analysis a;
  ASSERT_TRUE(RenderLabReport(out, std::nullopt, false, &a).ok());
  const auto* table = a.FindTable("perplexity");
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->rows.size(), 3u);
  const std::string text = testing::ReadAll(*dir_ / "prose.txt");
  for (const auto& row : table->rows) {
    const std::string format = row[0].text;
    const std::string path = format == "F16"
                                 ? (*dir_ / "tiny.gguf").string()
                                 : (fs::path(out) / "models" / ("tiny-" + format + ".gguf")).string();
    auto model = Model::Load(path);
    ASSERT_TRUE(model.ok()) << model.error().message;
    auto session = Session::Create(**model, {.n_ctx = 64, .n_threads = 2});
    ASSERT_TRUE(session.ok());
    auto ppl = ComputePerplexity(**session, text, {.n_ctx = 64, .max_chunks = 3});
    ASSERT_TRUE(ppl.ok()) << ppl.error().message;
    // The base's NLL comes from the perplexity arithmetic; a candidate's from the KLD pass's float
    // log-probabilities, which agree to about 1e-8 relative.
    EXPECT_NEAR(row[3].value, ppl->ppl, ppl->ppl * 2e-7) << format;
    EXPECT_EQ(row[2].value, 3) << format;
  }
}

TEST_F(LabPipelineTest, SpeedRowsCarryTheirRepetitionsAndThePlanTheCacheSize) {
  auto store = ResultsStore::Open((fs::path(CleanLab()) / kResultsFile).string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto results = LoadLabResults(**store);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->speed.size(), 3u);
  for (const auto& s : results->speed) EXPECT_EQ(s.repetitions, 1) << s.format;  // bench_repetitions
  EXPECT_EQ(results->machine.llc_bytes, ReadMachineInfo().llc_bytes);
}

TEST_F(LabPipelineTest, RescoresAndRerendersWithoutMeasuring) {
  const std::string& out = CleanLab();
  const auto rows = RowTimes(out);
  analysis::Analysis size_first, quality_first;
  ASSERT_TRUE(RenderLabReport(out, analysis::ScoreWeights{1, 0, 0}, false, &size_first).ok());
  ASSERT_TRUE(RenderLabReport(out, analysis::ScoreWeights{0, 1, 0}, false, &quality_first).ok());
  EXPECT_EQ(size_first.winner, "Q4_K_M");
  const analysis::FormatPoint* best = nullptr;
  for (const auto& p : quality_first.points) {
    if (!best || p.loss_pct < best->loss_pct) best = &p;
  }
  EXPECT_EQ(quality_first.winner, best->format);

  // Re-render everything from the database: same rows, well-formed files.
  for (const auto& sub : {"report.html", "report.md", "recommendation.pdf"}) fs::remove(fs::path(out) / sub);
  auto files = RenderLabReport(out, std::nullopt, true);
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_EQ(RowTimes(out), rows);
  EXPECT_EQ(testing::HtmlBalanceError(testing::ReadAll(fs::path(out) / "report.html")), "");
  EXPECT_EQ(testing::PdfPageCount(testing::ReadAll(fs::path(out) / "recommendation.pdf")), 1);
  for (const char* plot : {"size_vs_ppl", "size_vs_speed", "kld", "winner_map"}) {
    EXPECT_TRUE(testing::IsPng(testing::ReadAll(fs::path(out) / "plots" / (std::string(plot) + ".png"))))
        << plot;
    EXPECT_TRUE(testing::IsSvg(testing::ReadAll(fs::path(out) / "plots" / (std::string(plot) + ".svg"))))
        << plot;
  }
  EXPECT_EQ(testing::LineCount(testing::ReadAll(fs::path(out) / "tables" / "size.csv")), 4);
  EXPECT_EQ(testing::LineCount(testing::ReadAll(fs::path(out) / "tables" / "generation.csv")), 1 + 2 * 2);
}

TEST_F(LabPipelineTest, DamagedDatabaseStopsTheRun) {
  const std::string out = (*dir_ / "damaged").string();
  fs::create_directories(out);
  const auto db = fs::path(out) / kResultsFile;
  std::ofstream(db) << "SQLite format 3" << std::string(3000, '\x7f');
  const std::string before = testing::ReadAll(db);
  auto r = RunLab(Config(out));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("damaged"), std::string::npos) << r.error().message;
  EXPECT_EQ(testing::ReadAll(db), before);
}

}  // namespace
}  // namespace quantlab::lab
