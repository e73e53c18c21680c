// KL divergence: a model against itself, a quantized copy against its base, chunk merging, and the
// statistics formulas on a hand-made case.
#include "quantlab/eval/kld.h"

#include <gtest/gtest.h>

#include <cmath>

#include "eval/eval_test_util.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {
namespace {

using testing::TempDir;

TEST(KldTest, ModelAgainstItselfIsZero) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  auto base = Session::Create(*model, {.n_ctx = 16, .n_threads = 2});
  auto same = Session::Create(*model, {.n_ctx = 16, .n_threads = 1});
  ASSERT_TRUE(base.ok() && same.ok());
  Session* candidates[] = {same->get()};
  auto result = ComputeKld(**base, candidates, testing::EvalTestText(), {.n_ctx = 16});
  ASSERT_TRUE(result.ok()) << result.error().message;
  const KldStats& s = (*result)[0].stats;
  EXPECT_GT(s.count, 20);
  EXPECT_NEAR(s.kld.value, 0.0, 1e-6);
  EXPECT_NEAR(s.kld_max, 0.0, 1e-5);
  EXPECT_DOUBLE_EQ(s.same_top.value, 1.0);
  EXPECT_NEAR(s.p_diff_rms.value, 0.0, 1e-6);
  EXPECT_NEAR(s.ppl_ratio.value, 1.0, 1e-6);
  EXPECT_NEAR(s.ppl.value, s.ppl_base.value, s.ppl_base.value * 1e-6);
  EXPECT_NEAR(s.log_ppl_correlation, 1.0, 1e-6);

  // PPL(base) agrees with the perplexity function on the same chunks.
  auto ppl = ComputePerplexity(**base, testing::EvalTestText(), {.n_ctx = 16});
  ASSERT_TRUE(ppl.ok());
  EXPECT_NEAR(s.ppl_base.value, ppl->ppl, ppl->ppl * 1e-5);
}

TEST(KldTest, QuantizedCandidatesInOnePassAndMergedChunks) {
  TempDir dir;
  auto base_model = testing::LoadEvalTestModel(dir, "base.gguf");
  auto q8_model = testing::LoadEvalTestModel(dir, "q8.gguf", GgmlType::kQ8_0);
  auto other_model = testing::LoadEvalTestModel(dir, "other.gguf", GgmlType::kF32, /*seed=*/7);
  ASSERT_TRUE(base_model && q8_model && other_model);
  ThreadPool pool(2);
  auto base = Session::Create(*base_model, {.n_ctx = 16, .pool = &pool});
  auto q8 = Session::Create(*q8_model, {.n_ctx = 16, .pool = &pool});
  auto other = Session::Create(*other_model, {.n_ctx = 16, .pool = &pool});
  ASSERT_TRUE(base.ok() && q8.ok() && other.ok());
  Session* candidates[] = {q8->get(), other->get()};
  std::vector<KldChunk> q8_chunks;
  auto result = ComputeKld(**base, candidates, testing::EvalTestText(), {.n_ctx = 16},
                           [&](int, const NllStats&, std::span<const KldChunk> chunk, int, int) {
                             q8_chunks.push_back(chunk[0]);
                             return true;
                           });
  ASSERT_TRUE(result.ok()) << result.error().message;
  const KldStats& close = (*result)[0].stats;
  const KldStats& far = (*result)[1].stats;
  EXPECT_GT(close.kld.value, 0.0);
  EXPECT_LT(close.kld.value, far.kld.value);  // 8-bit copy is nearer the base than an unrelated model
  EXPECT_GT(close.same_top.value, far.same_top.value);
  EXPECT_LE(close.kld_min, close.kld_median);
  EXPECT_LE(close.kld_median, close.kld_max);
  EXPECT_LE(close.p_diff_min, close.p_diff_median);

  // The candidate's PPL equals its own perplexity on the same chunks.
  auto q8_ppl = ComputePerplexity(**q8, testing::EvalTestText(), {.n_ctx = 16});
  ASSERT_TRUE(q8_ppl.ok());
  EXPECT_NEAR(close.ppl.value, q8_ppl->ppl, q8_ppl->ppl * 1e-5);

  // Chunks merged in another order (as after a resume) give the same statistics.
  KldAccumulator merged;
  for (auto it = q8_chunks.rbegin(); it != q8_chunks.rend(); ++it) merged.Add(*it);
  const KldStats again = merged.Finish();
  EXPECT_EQ(again.count, close.count);
  EXPECT_NEAR(again.kld.value, close.kld.value, 1e-12);
  EXPECT_FLOAT_EQ(again.kld_median, close.kld_median);
  EXPECT_NEAR(again.ppl_ratio.value, close.ppl_ratio.value, 1e-12);
}

TEST(KldTest, StatisticsOnAHandMadeChunk) {
  // Two vocabulary entries, three tokens. Base probabilities (0.5, 0.5) each time; the candidate's
  // logits make p = (0.75, 0.25) for all three; targets 0, 0, 1.
  BaseChunkLogProbs base;
  base.n_vocab = 2;
  base.targets = {0, 0, 1};
  base.log_probs.assign(6, std::log(0.5f));
  const float l = std::log(3.0f);  // logits (log 3, 0) -> p = (0.75, 0.25)
  const std::vector<float> logits = {l, 0, l, 0, l, 0};
  const KldChunk chunk = CompareChunkLogits(logits, base);
  const double kld = 0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(0.5 / 0.25);
  ASSERT_EQ(chunk.kld_values.size(), 3u);
  for (float v : chunk.kld_values) EXPECT_NEAR(v, kld, 1e-6);
  EXPECT_NEAR(chunk.p_diff_values[0], 0.25, 1e-6);
  EXPECT_NEAR(chunk.p_diff_values[2], -0.25, 1e-6);
  EXPECT_EQ(chunk.sums.n_same_top, 3);  // base argmax is index 0 on ties, as the candidate's
  KldAccumulator acc;
  acc.Add(chunk);
  const KldStats s = acc.Finish();
  EXPECT_NEAR(s.kld.value, kld, 1e-6);
  EXPECT_NEAR(s.p_diff.value, 0.25 / 3, 1e-6);
  EXPECT_NEAR(s.p_diff_rms.value, 0.25, 1e-6);
  EXPECT_NEAR(s.ppl.value, std::exp((2 * -std::log(0.75) - std::log(0.25)) / 3), 1e-5);
  EXPECT_NEAR(s.ppl_base.value, 2.0, 1e-6);
  EXPECT_FLOAT_EQ(s.p_diff_max, 0.25f);
  EXPECT_FLOAT_EQ(s.p_diff_min, -0.25f);
}

TEST(KldTest, VocabularyMismatchIsAnError) {
  TempDir dir;
  auto base_model = testing::LoadEvalTestModel(dir, "base.gguf");
  testing::EngineTestModel spec = testing::EvalTestModelSpec();
  spec.synth.n_vocab = 500;
  const std::string path = (dir / "big.gguf").string();
  testing::WriteEngineTestModel(spec, path);
  auto big_model = Model::Load(path);
  ASSERT_TRUE(base_model && big_model.ok());
  auto base = Session::Create(*base_model, {.n_ctx = 16, .n_threads = 1});
  auto big = Session::Create(**big_model, {.n_ctx = 16, .n_threads = 1});
  Session* candidates[] = {big->get()};
  auto result = ComputeKld(**base, candidates, testing::EvalTestText(), {.n_ctx = 16});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("vocabulary sizes differ"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
