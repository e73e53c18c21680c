// The lab end to end on a tiny synthetic model: resume after stops at many points, re-scoring and
// re-rendering without measuring, perplexities equal to the standalone evaluator's, damaged database.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include "quantlab/eval/kld.h"
#include "quantlab/eval/perplexity.h"
#include "quantlab/lab/lab.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/lab/precision.h"
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

  // Every perplexity and KLD row, value and per-token bytes, by kind, format and chunk.
  static std::map<std::string, std::string> QualityRows(const std::string& out) {
    auto store = ResultsStore::Open((fs::path(out) / kResultsFile).string());
    EXPECT_TRUE(store.ok());
    std::map<std::string, std::string> rows;
    for (const char* kind : {"ppl_chunk", "kld_chunk"}) {
      auto stored = (*store)->RowsOfKind(kind);
      EXPECT_TRUE(stored.ok());
      for (const auto& r : *stored) {
        rows[std::string(kind) + "/" + r.key.format + "/" + std::to_string(r.item)] =
            r.measurement.value.dump() + "|" + r.measurement.blob;
      }
    }
    return rows;
  }

  // Runs the lab, collecting its log.
  static Result<LabRunSummary> RunLogged(const LabConfig& c, std::vector<std::string>& log) {
    return RunLab(c, [&](const std::string& line) { log.push_back(line); });
  }
  static bool Logged(const std::vector<std::string>& log, const std::string& text) {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(text) != l.npos; });
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
  // Winners come from the size-quality front (a larger format without an established quality gain is
  // dominated), and quality-first picks the front's best quality.
  const analysis::FormatPoint* best = nullptr;
  for (const auto& p : quality_first.points) {
    if (p.on_front && (!best || p.loss_pct < best->loss_pct)) best = &p;
  }
  ASSERT_NE(best, nullptr);
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

// --mem-limit below the sum of the formats: the base first (its log-probabilities to the cache), then one
// candidate at a time. Every per-chunk perplexity and KLD row equals the one-pass run's, bit for bit.
TEST_F(LabPipelineTest, FormatByFormatRowsEqualTheOnePassRowsBitForBit) {
  const std::string out = (*dir_ / "by-format").string();
  LabConfig c = Config(out);
  c.mem_limit_bytes = 1;  // every model alone
  std::vector<std::string> log;
  auto r = RunLogged(c, log);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(Logged(log, "format by format")) << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_TRUE(Logged(log, "pass 3/3 (Q4_K_M)"));
  const auto rows = QualityRows(out);
  EXPECT_EQ(rows.size(), 3u * 3 + 2 * 3);
  EXPECT_EQ(rows, QualityRows(CleanLab()));
  // The cache is removed once every chunk is stored.
  EXPECT_TRUE(fs::is_empty(fs::path(out) / "cache"));
}

// Task accuracy format by format: each pass scores its own format's tasks while it is loaded, and every
// task row equals the one-pass lab's.
TEST_F(LabPipelineTest, FormatByFormatScoresEachFormatsTasksInItsPass) {
  const auto with_tasks = [](const std::string& out) {
    LabConfig c = Config(out);
    c.skip_speed = true;
    c.tasks = {{TaskKind::kHellaswag, testing::TestDataPath("tasks/hellaswag-ok.txt").string()},
               {TaskKind::kWinogrande, testing::TestDataPath("tasks/winogrande-ok.csv").string()},
               {TaskKind::kMultipleChoice, testing::TestDataPath("tasks/mc-ok.bin").string()}};
    return c;
  };
  const auto task_rows = [](const std::string& out) {
    auto store = ResultsStore::Open((fs::path(out) / kResultsFile).string());
    EXPECT_TRUE(store.ok());
    std::map<std::string, std::string> rows;
    auto stored = (*store)->RowsOfKind("task");
    EXPECT_TRUE(stored.ok());
    for (const auto& r : *stored) {
      rows[r.key.format + "/" + r.key.settings + "/" + std::to_string(r.item)] = r.measurement.value.dump();
    }
    return rows;
  };
  const std::string one_pass = (*dir_ / "tasks-one-pass").string();
  ASSERT_TRUE(RunLab(with_tasks(one_pass)).ok());
  const std::string by_format = (*dir_ / "tasks-by-format").string();
  LabConfig c = with_tasks(by_format);
  c.mem_limit_bytes = 1;
  std::vector<std::string> log;
  auto r = RunLogged(c, log);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::count_if(log.begin(), log.end(),
                          [](const std::string& l) {
                            return l.find(
                                       "[3/5] tasks: hellaswag (2 of 2), winogrande (2 of 2), "
                                       "multiple-choice (2 of 2) x 1 formats; 6 to score") != l.npos;
                          }),
            3)
      << fmt::format("{}", fmt::join(log, "\n"));
  const auto rows = task_rows(by_format);
  EXPECT_EQ(rows.size(), 3u * 6);
  EXPECT_EQ(rows, task_rows(one_pass));
  ASSERT_EQ(r->analysis.task_comparisons.size(), 3u * 3);
  EXPECT_NE(r->analysis.FindTable("tasks"), nullptr);
}

// Killed in the middle of a candidate's pass, the lab resumes from the base cache without evaluating the
// base again; a truncated cache keeps its complete records; one made for another text is rebuilt.
TEST_F(LabPipelineTest, FormatByFormatResumesFromTheBaseCacheAndRebuildsABadOne) {
  const std::string out = (*dir_ / "by-format-resumed").string();
  LabConfig c = Config(out);
  c.mem_limit_bytes = 1;
  // Units: 2 quantizations, the base pass (3 chunks, 2 samples), then the first chunk of Q8_0.
  c.stop_after_units = 2 * kTensors + 3 + 2 + 1;
  auto stopped = RunLab(c);
  ASSERT_FALSE(stopped.ok());
  const fs::path cache_dir = fs::path(out) / "cache";
  ASSERT_EQ(std::distance(fs::directory_iterator(cache_dir), fs::directory_iterator()), 1);
  const fs::path cache = fs::directory_iterator(cache_dir)->path();
  const auto full_size = fs::file_size(cache);

  // Cut into the last record: two complete ones are kept, the base evaluates one chunk again.
  fs::resize_file(cache, full_size - 100);
  c.stop_after_units = 1 + 1;  // that chunk, then one more chunk of Q8_0
  std::vector<std::string> log;
  ASSERT_FALSE(RunLogged(c, log).ok());
  EXPECT_TRUE(Logged(log, "last record was incomplete")) << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_TRUE(Logged(log, "2 chunks stored"));
  EXPECT_TRUE(
      Logged(log, "pass 1/3 (F16 (to the cache)): 3 chunks of 64 tokens x 1 formats; 1 chunks to evaluate"));
  EXPECT_EQ(fs::file_size(cache), full_size);

  // Resume with the cache whole: the base is not evaluated again.
  const auto before = RowTimes(out);
  log.clear();
  c.stop_after_units = -1;
  auto resumed = RunLogged(c, log);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_TRUE(Logged(log, "3 chunks stored"));
  EXPECT_TRUE(
      Logged(log, "pass 1/3 (F16 (to the cache)): 3 chunks of 64 tokens x 1 formats; 0 chunks to evaluate"));
  for (const auto& [key, t] : before) EXPECT_EQ(RowTimes(out).at(key), t) << key;
  EXPECT_EQ(QualityRows(out), QualityRows(CleanLab()));

  // A cache made for something else (here: a damaged header) is detected and rebuilt, never read.
  const std::string other = (*dir_ / "by-format-other").string();
  LabConfig o = Config(other);
  o.mem_limit_bytes = 1;
  o.stop_after_units = 2 * kTensors + 3 + 2;  // the whole base pass
  ASSERT_FALSE(RunLab(o).ok());
  const fs::path other_cache = fs::directory_iterator(fs::path(other) / "cache")->path();
  {
    std::fstream f(other_cache, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(20);  // inside the vocabulary size
    f.put('\x7f');
  }
  log.clear();
  o.stop_after_units = -1;
  auto rebuilt = RunLogged(o, log);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message;
  EXPECT_TRUE(Logged(log, "rebuilt, it was made for another")) << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_TRUE(
      Logged(log, "pass 1/3 (F16 (to the cache)): 3 chunks of 64 tokens x 1 formats; 3 chunks to evaluate"));
  EXPECT_EQ(QualityRows(other), QualityRows(CleanLab()));
}

// Adaptive precision (no --chunks): chunks in the plan's seeded random order, each format stopping at the
// first chunk count where the rule is met (or at the end of the text), the base on as many as any format.
TEST_F(LabPipelineTest, AdaptivePrecisionStopsEachFormatByTheRuleOnARandomOrder) {
  const std::string out = (*dir_ / "adaptive").string();
  LabConfig c = Config(out);
  c.chunks = -1;
  std::vector<std::string> log;
  auto r = RunLogged(c, log);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto store = ResultsStore::Open((fs::path(out) / kResultsFile).string());
  ASSERT_TRUE(store.ok());
  auto meta = (*store)->GetMeta("lab");
  ASSERT_TRUE(meta.ok() && *meta);
  auto plan = internal::LabPlan::FromJson(nlohmann::json::parse(**meta));
  ASSERT_TRUE(plan.ok() && plan->adaptive);
  auto results = LoadLabResults(**store);
  ASSERT_TRUE(results.ok()) << results.error().message;

  auto model = Model::Load((*dir_ / "tiny.gguf").string());
  ASSERT_TRUE(model.ok());
  auto tokens = TokenizeForPerplexity((*model)->tokenizer(), testing::ReadAll(*dir_ / "prose.txt"), 64);
  ASSERT_TRUE(tokens.ok());
  const int n = tokens->n_chunks;
  ASSERT_GT(n, PrecisionTarget{}.min_chunks);
  const std::vector<int> order = internal::ChunkOrder(*plan, plan->data[0], n);
  std::vector<int> in_order(n);
  std::iota(in_order.begin(), in_order.end(), 0);
  EXPECT_NE(order, in_order);

  const analysis::PerplexityResult* base = results->Ppl("F16", "prose");
  ASSERT_NE(base, nullptr);
  const auto means = [](const analysis::PerplexityResult& p, size_t k) {
    std::vector<double> m;
    for (size_t i = 0; i < k; ++i) m.push_back(p.chunk_nll_sum[i] / double(p.chunk_tokens[i]));
    return m;
  };
  size_t most = 0;
  for (const char* format : {"Q8_0", "Q4_K_M"}) {
    auto items =
        (*store)->Items(plan->PplKey(plan->formats[format == std::string("Q8_0") ? 1 : 2], plan->data[0]));
    ASSERT_TRUE(items.ok());
    const size_t k = items->size();
    most = std::max(most, k);
    // The first k chunks of the order, no others.
    EXPECT_EQ(*items, std::set<int64_t>(order.begin(), order.begin() + k)) << format;
    const analysis::PerplexityResult* p = results->Ppl(format, "prose");
    const auto kld = std::find_if(results->kld.begin(), results->kld.end(),
                                  [&](const auto& x) { return x.format == format; });
    ASSERT_TRUE(p && kld != results->kld.end());
    ASSERT_EQ(p->chunks(), k);
    const auto at = [&](size_t m) {
      return AssessPrecision(means(*base, m), means(*p, m), std::span(kld->chunk_mean_kld).first(m));
    };
    EXPECT_GE(k, size_t(PrecisionTarget{}.min_chunks)) << format;
    EXPECT_TRUE(at(k).enough || k == size_t(n)) << format << " stopped at " << k << " without the target";
    if (k > size_t(PrecisionTarget{}.min_chunks)) {
      EXPECT_FALSE(at(k - 1).enough) << format << " went on too long";
    }
    EXPECT_TRUE(Logged(log, fmt::format("'prose' {}: {} of {} chunks", format, k, n))) << format;
  }
  EXPECT_EQ(base->chunks(), most);

  // Killed mid-way and resumed, or format by format (in rounds), the lab measures the same rows.
  const std::string resumed = (*dir_ / "adaptive-resumed").string();
  LabConfig rc = Config(resumed);
  rc.chunks = -1;
  rc.stop_after_units = 2 * kTensors + 6;
  ASSERT_FALSE(RunLab(rc).ok());
  rc.stop_after_units = -1;
  ASSERT_TRUE(RunLab(rc).ok());
  EXPECT_EQ(QualityRows(resumed), QualityRows(out));

  const std::string by_format = (*dir_ / "adaptive-by-format").string();
  LabConfig fc = Config(by_format);
  fc.chunks = -1;
  fc.mem_limit_bytes = 1;
  log.clear();
  ASSERT_TRUE(RunLogged(fc, log).ok());
  auto candidate_rows = [](std::map<std::string, std::string> rows) {
    std::erase_if(rows, [](const auto& kv) { return kv.first.find("/F16/") != std::string::npos; });
    return rows;
  };
  EXPECT_EQ(candidate_rows(QualityRows(by_format)), candidate_rows(QualityRows(out)));
  EXPECT_TRUE(Logged(log, "round 1 (first 20 chunks)")) << fmt::format("{}", fmt::join(log, "\n"));
}

// --mem-limit below the formats and no disk for the base cache (simulated by the test hook): each candidate
// is evaluated next to the base, which is evaluated again in every pass but only on the chunks that pass's
// candidate needs. The rows equal the one-pass run's, with --chunks and with adaptive precision.
TEST_F(LabPipelineTest, WithoutDiskForTheCacheEachGroupSitsNextToTheBaseOnOnlyWhatItNeeds) {
  const std::string fixed = (*dir_ / "disk-short").string();
  LabConfig c = Config(fixed);
  c.mem_limit_bytes = 1;
  c.cache_disk_free_bytes = 0;
  std::vector<std::string> log;
  auto r = RunLogged(c, log);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(Logged(log, "each group next to the base, since the base cache"))
      << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_TRUE(Logged(log, "pass 1/2 (F16, Q8_0): 3 chunks (6 format-chunks)"));
  EXPECT_TRUE(Logged(log, "pass 2/2 (F16, Q4_K_M): 3 chunks (3 format-chunks)"));
  EXPECT_EQ(QualityRows(fixed), QualityRows(CleanLab()));
  EXPECT_TRUE(fs::is_empty(fs::path(fixed) / "cache"));

  // Adaptive: the one-pass run says how many chunks each candidate takes.
  const std::string one_pass = (*dir_ / "disk-short-reference").string();
  LabConfig o = Config(one_pass);
  o.chunks = -1;
  ASSERT_TRUE(RunLab(o).ok());
  auto store = ResultsStore::Open((fs::path(one_pass) / kResultsFile).string());
  ASSERT_TRUE(store.ok());
  auto meta = (*store)->GetMeta("lab");
  ASSERT_TRUE(meta.ok() && *meta);
  auto plan = internal::LabPlan::FromJson(nlohmann::json::parse(**meta));
  ASSERT_TRUE(plan.ok());
  std::map<std::string, size_t> chunks;
  for (const auto& f : plan->formats) {
    auto items = (*store)->Items(plan->PplKey(f, plan->data[0]));
    ASSERT_TRUE(items.ok());
    chunks[f.name] = items->size();
  }
  // The candidate that stops first goes first: the base must not be evaluated in its pass on the chunks
  // only the other one needs. (The test's premise: the two stop at different counts.)
  std::string first = "Q8_0", second = "Q4_K_M";
  if (chunks[first] > chunks[second]) std::swap(first, second);
  ASSERT_LT(chunks[first], chunks[second]);
  ASSERT_EQ(chunks["F16"], chunks[second]);

  const std::string adaptive = (*dir_ / "disk-short-adaptive").string();
  LabConfig a = Config(adaptive);
  a.chunks = -1;
  a.formats = {"F16", first, second};
  a.mem_limit_bytes = 1;
  a.cache_disk_free_bytes = 0;
  log.clear();
  auto ar = RunLogged(a, log);
  ASSERT_TRUE(ar.ok()) << ar.error().message;
  const size_t k1 = chunks[first], k2 = chunks[second];
  EXPECT_TRUE(Logged(log, fmt::format("pass 1/2 (F16, {}): {} chunks ({} format-chunks)", first, k1, 2 * k1)))
      << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_TRUE(Logged(
      log, fmt::format("pass 2/2 (F16, {}): {} chunks ({} format-chunks)", second, k2, k2 + (k2 - k1))));
  EXPECT_EQ(QualityRows(adaptive), QualityRows(one_pass));
}

// --reference Q8_0: the base is quantized from but never evaluated; every KLD row is Q4_K_M against
// Q8_0, equal to the evaluator's own comparison of the two files on the same chunks.
TEST_F(LabPipelineTest, ReferenceFormatReplacesTheBaseAsWhatEveryFormatIsComparedWith) {
  const std::string out = (*dir_ / "reference").string();
  LabConfig c = Config(out);
  c.reference = "q8_0";
  auto r = RunLab(c);
  ASSERT_TRUE(r.ok()) << r.error().message;

  auto store = ResultsStore::Open((fs::path(out) / kResultsFile).string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto rows = (*store)->ListRows();
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) EXPECT_NE(row.format, "F16") << row.kind << " row of the base";
  auto plan_json = (*store)->GetMeta("lab");
  ASSERT_TRUE(plan_json.ok() && plan_json->has_value());
  auto plan = internal::LabPlan::FromJson(nlohmann::json::parse(**plan_json));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->reference, "Q8_0");
  ASSERT_EQ(plan->formats.size(), 2u);
  const internal::PlannedFormat& q4 = plan->formats.back();
  ASSERT_EQ(q4.name, "Q4_K_M");
  auto stored = (*store)->RowsOfKind("kld_chunk");
  ASSERT_TRUE(stored.ok());
  for (const auto& row : *stored) EXPECT_EQ(row.key.format, "Q4_K_M");
  auto kld_rows = GetRows<KldChunkRow>(**store, plan->KldKey(q4, plan->data[0]));
  ASSERT_TRUE(kld_rows.ok()) << kld_rows.error().message;
  std::map<int64_t, KldSums> lab_kld;
  for (const auto& [i, row] : *kld_rows) lab_kld[i] = row.sums;
  ASSERT_EQ(lab_kld.size(), 3u);

  const std::string text = testing::ReadAll(*dir_ / "prose.txt");
  auto load = [&](const std::string& format) {
    return Model::Load((fs::path(out) / "models" / ("tiny-" + format + ".gguf")).string());
  };
  auto reference = load("Q8_0");
  auto candidate = load("Q4_K_M");
  ASSERT_TRUE(reference.ok() && candidate.ok());
  auto ref_session = Session::Create(**reference, {.n_ctx = 64, .n_threads = 2});
  auto cand_session = Session::Create(**candidate, {.n_ctx = 64, .n_threads = 2});
  ASSERT_TRUE(ref_session.ok() && cand_session.ok());
  Session* candidates[] = {cand_session->get()};
  std::map<int64_t, KldSums> direct;
  auto kld = ComputeKld(**ref_session, candidates, text, {.n_ctx = 64, .max_chunks = 3},
                        [&](int chunk, const NllStats&, std::span<const KldChunk> c, int, int) {
                          direct[chunk] = c[0].sums;
                          return true;
                        });
  ASSERT_TRUE(kld.ok()) << kld.error().message;
  ASSERT_EQ(direct.size(), 3u);
  for (const auto& [i, sums] : direct) {
    EXPECT_EQ(lab_kld.at(i).count, sums.count) << i;
    EXPECT_EQ(lab_kld.at(i).sum_kld, sums.sum_kld) << i;
    EXPECT_EQ(lab_kld.at(i).sum_p_diff, sums.sum_p_diff) << i;
    EXPECT_EQ(lab_kld.at(i).n_same_top, sums.n_same_top) << i;
  }

  // The analysis takes Q8_0 as the reference; the report says the base was not evaluated.
  analysis::Analysis a;
  ASSERT_TRUE(RenderLabReport(out, std::nullopt, false, &a).ok());
  ASSERT_EQ(a.points.size(), 2u);
  for (const auto& p : a.points) {
    EXPECT_EQ(p.is_base, p.format == "Q8_0") << p.format;
    if (p.is_base) {
      EXPECT_EQ(p.loss_pct, 0.0);
    }
  }
  EXPECT_TRUE(std::any_of(a.caveats.begin(), a.caveats.end(), [](const std::string& c) {
    return c.find("measured against Q8_0, not the F16 base") != c.npos;
  }));
  const std::string md = testing::ReadAll(fs::path(out) / "report.md");
  EXPECT_NE(md.find("Reference Q8_0 (not the F16 base, which was not evaluated)"), md.npos);
  // `quantlab report` renders it again from the stored plan, identically.
  fs::remove(fs::path(out) / "report.md");
  ASSERT_TRUE(RenderLabReport(out, std::nullopt, true).ok());
  EXPECT_EQ(testing::ReadAll(fs::path(out) / "report.md"), md);

  // KLD rows against Q8_0 and against the base never share a key; perplexity rows do.
  internal::LabPlan base_plan = *plan;
  base_plan.reference.clear();
  EXPECT_NE(plan->KldKey(q4, plan->data[0]).settings, base_plan.KldKey(q4, plan->data[0]).settings);
  EXPECT_EQ(plan->PplKey(q4, plan->data[0]).settings, base_plan.PplKey(q4, plan->data[0]).settings);

  // Format by format, the reference's log-probabilities go through the cache: the same rows, bit for bit.
  LabConfig by_format = Config(out + "-by-format");
  by_format.reference = "Q8_0";
  by_format.mem_limit_bytes = 1;
  std::vector<std::string> log;
  auto limited = RunLogged(by_format, log);
  ASSERT_TRUE(limited.ok()) << limited.error().message;
  EXPECT_TRUE(Logged(log, "pass 1/2 (Q8_0 (to the cache))")) << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_EQ(QualityRows(out + "-by-format"), QualityRows(out));
}

TEST_F(LabPipelineTest, AReferenceOutsideTheFormatsIsAnErrorBeforeAnyWork) {
  const std::string out = (*dir_ / "bad-reference").string();
  for (const char* name : {"Q5_K_M", "Q9_Z", "F16"}) {
    LabConfig c = Config(out);
    c.reference = name;
    auto r = RunLab(c);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_NE(r.error().message.find("--reference"), std::string::npos) << r.error().message;
    // Nothing quantized or measured (the base itself is only found to be the base once it is read).
    const fs::path models = fs::path(out) / "models";
    EXPECT_TRUE(!fs::exists(models) || fs::is_empty(models)) << name;
    if (std::string(name) != "F16") {
      EXPECT_FALSE(fs::exists(out)) << name;
    }
  }
  LabConfig c = Config(out);
  c.reference = "Q5_K_M";
  EXPECT_FALSE(CheckReference(c).ok());
  c.reference = "q4_k_m";
  EXPECT_TRUE(CheckReference(c).ok());
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
