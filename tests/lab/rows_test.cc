// The typed row model: every kind round-trips, a row that does not match its struct is an error naming
// the row, and a store written before the row model (schema 1) is upgraded exactly or refused.
#include "quantlab/lab/rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "quantlab/lab/lab.h"
#include "quantlab/lab/store_schema.h"
#include "support/paths.h"

namespace quantlab::lab {
namespace {
namespace fs = std::filesystem;

MeasurementKey KeyOf(RowKind kind, const std::string& format = "Q4_K_M", const std::string& data = "",
                     const std::string& settings = "{}") {
  return {"modelhash", format, data, settings, "0.1.0", std::string(RowKindName(kind))};
}

std::unique_ptr<ResultsStore> OpenStore(const testing::TempDir& dir) {
  auto store = ResultsStore::Open((dir / "results.sqlite").string());
  EXPECT_TRUE(store.ok()) << store.error().message;
  return std::move(*store);
}

TEST(RowsTest, EveryKindRoundTrips) {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  const QuantizeRow q{"m.gguf", 1234, 99, 4.5, 1.25};
  ASSERT_TRUE(PutRow(*store, KeyOf(RowKind::kQuantize), 0, q).ok());
  KldChunkRow k;
  k.sums.count = 2;
  k.sums.sum_kld = 0.25;
  k.sums.max_p_diff = 0.125f;
  k.sums.n_same_top = 1;
  k.kld_values = {0.1f, 0.15f};
  k.p_diff_values = {-0.125f, 0.0625f};
  ASSERT_TRUE(PutRow(*store, KeyOf(RowKind::kKldChunk, "Q4_K_M", "data"), 3, k).ok());
  const SpeedRow s{10.5, 0.5, 2.25, 0.125, 3, 1 << 20, 4, "AVX2"};
  ASSERT_TRUE(PutRow(*store, KeyOf(RowKind::kSpeed), 0, s).ok());
  const SampleRow sample{"p", "sampled", {1, 2}, "greedy", {3, 4, 5}, 7.5};
  ASSERT_TRUE(PutRow(*store, KeyOf(RowKind::kSample, "Q4_K_M", "prompthash"), 1, sample).ok());
  const TaskRow task{2, 1, false, {-1.5, -0.25, -0.125, -2.0}};
  ASSERT_TRUE(PutRow(*store, KeyOf(RowKind::kTask, "Q4_K_M", "taskfilehash"), 17, task).ok());
  auto t2 = GetRow<TaskRow>(*store, KeyOf(RowKind::kTask, "Q4_K_M", "taskfilehash"), 17);
  ASSERT_TRUE(t2.ok()) << t2.error().message;
  ASSERT_TRUE(t2->has_value());
  EXPECT_EQ((*t2)->chosen, 2);
  EXPECT_EQ((*t2)->gold, 1);
  EXPECT_FALSE((*t2)->correct);
  EXPECT_EQ((*t2)->scores, task.scores);
  EXPECT_EQ(RowKindName(RowKind::kTask), "task");

  auto q2 = GetRow<QuantizeRow>(*store, KeyOf(RowKind::kQuantize), 0);
  ASSERT_TRUE(q2.ok()) << q2.error().message;
  ASSERT_TRUE(q2->has_value());
  EXPECT_EQ((*q2)->file, "m.gguf");
  EXPECT_EQ((*q2)->file_bytes, 1234u);
  EXPECT_EQ((*q2)->bits_per_weight, 4.5);
  auto k2 = GetRows<KldChunkRow>(*store, KeyOf(RowKind::kKldChunk, "Q4_K_M", "data"));
  ASSERT_TRUE(k2.ok()) << k2.error().message;
  ASSERT_EQ(k2->size(), 1u);
  const KldChunkRow& kr = k2->at(3);
  EXPECT_EQ(kr.sums.count, 2);
  EXPECT_EQ(kr.sums.sum_kld, 0.25);
  EXPECT_EQ(kr.sums.max_p_diff, 0.125f);
  EXPECT_EQ(kr.kld_values, k.kld_values);
  EXPECT_EQ(kr.p_diff_values, k.p_diff_values);
  auto s2 = GetRow<SpeedRow>(*store, KeyOf(RowKind::kSpeed), 0);
  ASSERT_TRUE(s2.ok() && s2->has_value());
  EXPECT_EQ((*s2)->repetitions, 3);
  EXPECT_EQ((*s2)->tg_stddev, 0.125);
  EXPECT_EQ((*s2)->isa, "AVX2");
  auto sample2 = GetRow<SampleRow>(*store, KeyOf(RowKind::kSample, "Q4_K_M", "prompthash"), 1);
  ASSERT_TRUE(sample2.ok() && sample2->has_value());
  EXPECT_EQ((*sample2)->greedy_tokens, (std::vector<int32_t>{3, 4, 5}));
  // Absent is not an error.
  auto none = GetRow<RamRow>(*store, KeyOf(RowKind::kRam), 0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(RowsTest, AMissingOrMistypedFieldIsAnErrorNamingTheRow) {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  // A speed row without its repetitions (as quantlab wrote before the row model).
  ASSERT_TRUE(store
                  ->Put(KeyOf(RowKind::kSpeed, "Q8_0"), 0,
                        {{"pp_tps", 1.0},
                         {"pp_stddev", 0.0},
                         {"tg_tps", 1.0},
                         {"tg_stddev", 0.0},
                         {"peak_rss_bytes", 1},
                         {"threads", 2},
                         {"isa", "AVX2"}})
                  .ok());
  auto speed = GetRow<SpeedRow>(*store, KeyOf(RowKind::kSpeed, "Q8_0"), 0);
  ASSERT_FALSE(speed.ok());
  const std::string& m = speed.error().message;
  EXPECT_NE(m.find("speed row (format Q8_0, item 0)"), std::string::npos) << m;
  EXPECT_NE(m.find("'repetitions'"), std::string::npos) << m;

  // A perplexity chunk whose sum is text.
  ASSERT_TRUE(store
                  ->Put(KeyOf(RowKind::kPplChunk, "F16", "abcdef0123456789"), 4,
                        {{"count", 3}, {"sum", "1.5"}, {"sum_sq", 1.0}})
                  .ok());
  auto ppl = GetRows<PplChunkRow>(*store, KeyOf(RowKind::kPplChunk, "F16", "abcdef0123456789"));
  ASSERT_FALSE(ppl.ok());
  EXPECT_NE(ppl.error().message.find("ppl_chunk row (format F16, data abcdef01, item 4)"), std::string::npos)
      << ppl.error().message;
  EXPECT_NE(ppl.error().message.find("number"), std::string::npos) << ppl.error().message;

  // A KLD chunk whose per-token values are cut short.
  ASSERT_TRUE(store
                  ->Put(KeyOf(RowKind::kKldChunk), 0,
                        {{"sums", nlohmann::json::parse(R"({"count":1,"sum_nll":0,"sum_nll2":0,
                             "sum_nll_base":0,"sum_nll_base2":0,"sum_nll_nll_base":0,"sum_kld":0,"sum_kld2":0,
                             "sum_p_diff":0,"sum_p_diff2":0,"sum_p_diff4":0,"max_p_diff":0,"n_same_top":0})")},
                         {"n_values", 2}},
                        std::string(12, '\0'))
                  .ok());
  auto kld = GetRow<KldChunkRow>(*store, KeyOf(RowKind::kKldChunk), 0);
  ASSERT_FALSE(kld.ok());
  EXPECT_NE(kld.error().message.find("kld_chunk row (format Q4_K_M, item 0)"), std::string::npos)
      << kld.error().message;
}

// A lab store as quantlab wrote it before the row model (schema 1): the plan's settings as JSON text,
// no cache size, speed rows without repetitions, no schema version.
constexpr const char* kDataHash = "d0d0d0d0d0d0d0d0";
constexpr const char* kEval = R"({"n_ctx":64})";
constexpr const char* kSpeed =
    R"({"cpu":"cpu","isa":"AVX2","n_gen":8,"n_prompt":32,"repetitions":3,"threads":2})";

void WriteSchema1Store(ResultsStore& store, const std::string& speed_settings = kSpeed) {
  const nlohmann::json plan = {
      {"model_name", "tiny"},
      {"model_hash", "modelhash"},
      {"base_path", "/nowhere/tiny.gguf"},
      {"base_format", "F16"},
      {"tool_version", "0.1.0"},
      {"formats",
       {{{"name", "F16"}, {"recipe", 1}, {"is_base", true}, {"path", "/nowhere/tiny.gguf"}},
        {{"name", "Q8_0"}, {"recipe", 7}, {"is_base", false}, {"path", "/nowhere/tiny-Q8_0.gguf"}}}},
      {"data", {{{"name", "prose"}, {"path", "/nowhere/prose.txt"}, {"hash", kDataHash}}}},
      {"prompts", {"the cat"}},
      {"n_ctx", 64},
      {"chunks", -1},
      {"ram_budget_bytes", 0},
      {"weights", {{"size", 0.3}, {"quality", 0.4}, {"speed", 0.3}}},
      {"machine",
       {{"cpu_model", "cpu"},
        {"simd", "AVX2"},
        {"threads", 2},
        {"logical_cpus", 2},
        {"ram_bytes", 1 << 30},
        {"os", "Linux"}}},
      {"eval_settings", kEval},
      {"sample_settings",
       R"({"greedy":true,"n_predict":8,"seed":42,"temperature":0.699999988079071,"top_k":40,"top_p":0.8999999761581421})"},
      {"speed_settings", speed_settings},
      {"ram_settings", R"({"n_ctx":64,"threads":2})"},
      {"n_predict", 8},
      {"sampling_text", "temp 0.7, top-p 0.9, top-k 40, seed 42"}};
  ASSERT_TRUE(store.SetMeta("lab", plan.dump(2)).ok());
  auto key = [](const std::string& format, const std::string& data, const std::string& settings,
                const std::string& kind) {
    return MeasurementKey{"modelhash", format, data, settings, "0.1.0", kind};
  };
  for (const auto& [format, base] : {std::pair{"F16", true}, std::pair{"Q8_0", false}}) {
    const std::string qs = nlohmann::json{{"recipe", format}, {"base", base}}.dump();
    ASSERT_TRUE(store
                    .Put(key(format, "", qs, "quantize"), 0,
                         {{"file", "f"},
                          {"file_bytes", base ? 4000 : 2200},
                          {"n_params", 1000},
                          {"bits_per_weight", base ? 16.0 : 8.5},
                          {"seconds", 0.0}})
                    .ok());
    for (int chunk = 0; chunk < 2; ++chunk) {
      ASSERT_TRUE(store
                      .Put(key(format, kDataHash, kEval, "ppl_chunk"), chunk,
                           {{"count", 63}, {"sum", 100.0 + chunk + (base ? 0 : 1)}, {"sum_sq", 200.0}})
                      .ok());
      if (base) continue;
      const float values[4] = {0.01f, 0.03f, -0.02f, 0.02f};
      ASSERT_TRUE(store
                      .Put(key(format, kDataHash, kEval, "kld_chunk"), chunk,
                           {{"sums",
                             {{"count", 2},
                              {"sum_nll", 101.0},
                              {"sum_nll2", 200.0},
                              {"sum_nll_base", 100.0},
                              {"sum_nll_base2", 199.0},
                              {"sum_nll_nll_base", 199.5},
                              {"sum_kld", 0.04},
                              {"sum_kld2", 0.001},
                              {"sum_p_diff", 0.0},
                              {"sum_p_diff2", 0.0008},
                              {"sum_p_diff4", 0.0},
                              {"max_p_diff", 0.02f},
                              {"n_same_top", 2}}},
                            {"n_values", 2}},
                           std::string(reinterpret_cast<const char*>(values), sizeof(values)))
                      .ok());
    }
    ASSERT_TRUE(store
                    .Put(key(format, "", speed_settings, "speed"), 0,
                         {{"pp_tps", base ? 100.0 : 180.0},
                          {"pp_stddev", 1.0},
                          {"tg_tps", base ? 10.0 : 18.0},
                          {"tg_stddev", 0.5},
                          {"peak_rss_bytes", 1 << 20},
                          {"threads", 2},
                          {"isa", "AVX2"}})
                    .ok());
    ASSERT_TRUE(
        store
            .Put(key(format, "", R"({"n_ctx":64,"threads":2})", "ram"), 0,
                 {{"total", 5000}, {"weights", 4000}, {"kv_cache", 500}, {"scratch", 400}, {"runtime", 100}})
            .ok());
  }
}

TEST(StoreSchemaTest, AStoreFromBeforeTheRowModelIsUpgradedExactly) {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  WriteSchema1Store(*store);
  auto rows_before = store->ListRows();
  ASSERT_TRUE(rows_before.ok());

  // Read as it is, it is named as an older quantlab's, not misread.
  auto unread = LoadLabResults(*store);
  ASSERT_FALSE(unread.ok());
  EXPECT_NE(unread.error().message.find("written by an older quantlab"), std::string::npos)
      << unread.error().message;

  ASSERT_TRUE(PrepareStore(*store).ok());
  auto r = LoadLabResults(*store);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->formats.size(), 2u);
  EXPECT_EQ(r->formats[1].file_bytes, 2200u);
  ASSERT_EQ(r->perplexity.size(), 2u);
  EXPECT_EQ(r->perplexity[1].chunk_nll_sum, (std::vector<double>{101.0, 102.0}));
  EXPECT_EQ(r->perplexity[1].chunk_tokens, (std::vector<int64_t>{63, 63}));
  ASSERT_EQ(r->kld.size(), 1u);
  EXPECT_DOUBLE_EQ(r->kld[0].mean_kld, 0.02);
  EXPECT_EQ(r->kld[0].tokens, 4);
  ASSERT_EQ(r->speed.size(), 2u);
  EXPECT_EQ(r->speed[1].tg_tps, 18.0);
  EXPECT_EQ(r->speed[1].repetitions, 3);  // from the settings the bench ran with
  EXPECT_EQ(r->speed[1].predicted_ram_bytes, 5000u);
  EXPECT_EQ(r->machine.llc_bytes, 0u);  // unknown
  EXPECT_EQ(r->generated_tokens, 8);
  // The measurements keep their times; a second preparation changes nothing.
  auto rows_after = store->ListRows();
  ASSERT_TRUE(rows_after.ok());
  ASSERT_EQ(rows_after->size(), rows_before->size());
  for (size_t i = 0; i < rows_after->size(); ++i)
    EXPECT_EQ((*rows_after)[i].created_at, (*rows_before)[i].created_at);
  ASSERT_TRUE(PrepareStore(*store).ok());
  EXPECT_EQ(**store->GetMeta("schema"), std::to_string(kStoreSchema));
}

TEST(StoreSchemaTest, AnOldStoreThatCannotBeUpgradedIsRefusedUntouched) {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  // Speed settings without the repetitions: nothing says how many runs the figures rest on.
  WriteSchema1Store(*store, R"({"cpu":"cpu","isa":"AVX2","n_gen":8,"n_prompt":32,"threads":2})");
  const std::string plan_before = **store->GetMeta("lab");
  const Status s = PrepareStore(*store);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("written by an older quantlab"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("remeasure"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("speed row (format F16, item 0)"), std::string::npos) << s.error().message;
  EXPECT_EQ(**store->GetMeta("lab"), plan_before);  // rolled back
  EXPECT_FALSE((*store->GetMeta("schema")).has_value());
}

TEST(StoreSchemaTest, NewAndNewerStores) {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_TRUE(PrepareStore(*store).ok());
  EXPECT_EQ(**store->GetMeta("schema"), std::to_string(kStoreSchema));
  ASSERT_TRUE(store->SetMeta("schema", std::to_string(kStoreSchema + 1)).ok());
  const Status s = PrepareStore(*store);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("newer quantlab"), std::string::npos) << s.error().message;
  ASSERT_TRUE(store->SetMeta("schema", "two").ok());
  EXPECT_FALSE(PrepareStore(*store).ok());
}

// A schema-2 store (quantlab before task accuracy) is upgraded exactly: its plan gets an empty list of
// task sets, every row and its time are kept, and the report reads it as before.
TEST(StoreSchemaTest, ASchema2StoreGainsAnEmptyTaskList) {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  WriteSchema1Store(*store);
  ASSERT_TRUE(PrepareStore(*store).ok());
  // Make it what schema 2 wrote: no task list, schema 2.
  nlohmann::json plan = nlohmann::json::parse(**store->GetMeta("lab"));
  plan.erase("tasks");
  ASSERT_TRUE(store->SetMeta("lab", plan.dump(2)).ok());
  ASSERT_TRUE(store->SetMeta("schema", "2").ok());
  EXPECT_FALSE(CheckStoreSchema(*store).ok());
  auto rows_before = store->ListRows();
  ASSERT_TRUE(rows_before.ok());
  ASSERT_TRUE(PrepareStore(*store).ok());
  EXPECT_EQ(**store->GetMeta("schema"), std::to_string(kStoreSchema));
  const nlohmann::json upgraded = nlohmann::json::parse(**store->GetMeta("lab"));
  EXPECT_EQ(upgraded.at("tasks"), nlohmann::json::array());
  plan["tasks"] = nlohmann::json::array();
  EXPECT_EQ(upgraded, plan);  // nothing else changed
  auto rows_after = store->ListRows();
  ASSERT_TRUE(rows_after.ok());
  ASSERT_EQ(rows_after->size(), rows_before->size());
  for (size_t i = 0; i < rows_after->size(); ++i)
    EXPECT_EQ((*rows_after)[i].created_at, (*rows_before)[i].created_at);
  auto r = LoadLabResults(*store);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->task_sets.empty());
  EXPECT_EQ(r->perplexity.size(), 2u);
}

}  // namespace
}  // namespace quantlab::lab
