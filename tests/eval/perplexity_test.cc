// The perplexity method against a hand computation on the model's own logits, the uncertainty formula,
// resumption, and bad input.
#include "quantlab/eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "eval/eval_test_util.h"

namespace quantlab {
namespace {

using testing::TempDir;

TEST(NllStatsTest, PplAndLlamaCppUncertainty) {
  NllStats s;
  for (double v : {1.0, 2.0, 3.0}) s.Add(v);
  EXPECT_DOUBLE_EQ(s.MeanNll(), 2.0);
  EXPECT_DOUBLE_EQ(s.Ppl(), std::exp(2.0));
  // var = E[x^2] - E[x]^2 = 14/3 - 4 = 2/3; stderr of the mean = sqrt(var / (n - 1)) = sqrt(1/3).
  EXPECT_NEAR(s.PplStderr(), std::exp(2.0) * std::sqrt(1.0 / 3.0), 1e-12);
  NllStats a, b;
  a.Add(1.0);
  b.Add(2.0);
  b.Add(3.0);
  a.Merge(b);
  EXPECT_EQ(a.count, 3);
  EXPECT_DOUBLE_EQ(a.sum, s.sum);
  EXPECT_DOUBLE_EQ(a.sum_sq, s.sum_sq);
}

TEST(PerplexityTest, MatchesHandComputation) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  const int n_ctx = 16;
  auto session = Session::Create(*model, {.n_ctx = 32, .n_batch = 5, .n_threads = 2});
  ASSERT_TRUE(session.ok());
  const std::string text = testing::EvalTestText();
  auto result = ComputePerplexity(**session, text, {.n_ctx = n_ctx, .max_chunks = 3});
  ASSERT_TRUE(result.ok()) << result.error().message;

  // By hand: tokens with BOS, chunk i = tokens[16i, 16i + 16) with its first token replaced by BOS, all
  // 16 positions evaluated from an empty cache, logits at positions 8..14 scored against the next token.
  const Tokenizer& tok = model->tokenizer();
  std::vector<int32_t> tokens = tok.Encode(text, true);
  ASSERT_EQ(tokens[0], tok.bos());
  ASSERT_GE(tokens.size(), 48u);
  double sum = 0, sum_sq = 0;
  int count = 0;
  auto fresh = Session::Create(*model, {.n_ctx = 32, .n_threads = 1});
  ASSERT_TRUE(fresh.ok());
  for (int chunk = 0; chunk < 3; ++chunk) {
    std::vector<int32_t> input(tokens.begin() + chunk * n_ctx, tokens.begin() + (chunk + 1) * n_ctx);
    input[0] = tok.bos();
    (*fresh)->Reset();
    auto logits = (*fresh)->Decode(input, n_ctx);
    ASSERT_TRUE(logits.ok());
    const int n_vocab = model->config().n_vocab;
    for (int pos = n_ctx / 2; pos < n_ctx - 1; ++pos) {
      const float* row = logits->data() + pos * n_vocab;
      double max = row[0], z = 0;
      for (int v = 0; v < n_vocab; ++v) max = std::max<double>(max, row[v]);
      for (int v = 0; v < n_vocab; ++v) z += std::exp(row[v] - max);
      const double nll = -(row[tokens[chunk * n_ctx + pos + 1]] - max - std::log(z));
      sum += nll;
      sum_sq += nll * nll;
      ++count;
    }
  }
  EXPECT_EQ(result->stats.count, 3 * 7);
  EXPECT_EQ(count, 21);
  const double mean = sum / count;
  const double ppl = std::exp(mean);
  EXPECT_NEAR(result->ppl, ppl, ppl * 1e-5);
  EXPECT_NEAR(result->ppl_stderr, ppl * std::sqrt((sum_sq / count - mean * mean) / (count - 1)), ppl * 1e-4);
  EXPECT_EQ(result->n_chunks, 3);
  EXPECT_EQ(result->n_ctx, n_ctx);
  EXPECT_EQ(result->n_tokens, static_cast<int64_t>(tokens.size()));
  ASSERT_EQ(result->chunks.size(), 3u);
  // A random model predicts badly, but it is a distribution: PPL between 1 and far above the vocabulary.
  EXPECT_GT(result->ppl, 1.0);
}

TEST(PerplexityTest, ResumeAndMergeEqualsOneRun) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  auto session = Session::Create(*model, {.n_ctx = 16, .n_threads = 2});
  ASSERT_TRUE(session.ok());
  const std::string text = testing::EvalTestText();
  auto all = ComputePerplexity(**session, text, {.n_ctx = 16});
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_GE(all->n_chunks, 3);
  int calls = 0;
  auto first = ComputePerplexity(**session, text, {.n_ctx = 16},
                                 [&](const PerplexityChunk&, const NllStats&, int, int) {
                                   return ++calls < 2;  // stop after two chunks
                                 });
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->chunks.size(), 2u);
  auto rest = ComputePerplexity(**session, text, {.n_ctx = 16, .first_chunk = 2});
  ASSERT_TRUE(rest.ok());
  NllStats merged = first->stats;
  merged.Merge(rest->stats);
  EXPECT_EQ(merged.count, all->stats.count);
  EXPECT_NEAR(merged.Ppl(), all->ppl, all->ppl * 1e-12);
  EXPECT_EQ(rest->n_chunks, all->n_chunks);
}

TEST(PerplexityTest, BadInputIsReported) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  auto session = Session::Create(*model, {.n_ctx = 64, .n_threads = 1});
  ASSERT_TRUE(session.ok());

  auto empty = ComputePerplexity(**session, "", {.n_ctx = 16});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("empty"), std::string::npos);

  auto short_text = ComputePerplexity(**session, "The quick brown fox.", {.n_ctx = 16});
  ASSERT_FALSE(short_text.ok());
  EXPECT_NE(short_text.error().message.find("needs at least 32"), std::string::npos)
      << short_text.error().message;

  auto too_long = ComputePerplexity(**session, testing::EvalTestText(), {.n_ctx = 128});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("larger than the model's training context 64"), std::string::npos)
      << too_long.error().message;

  auto small_session = Session::Create(*model, {.n_ctx = 8, .n_threads = 1});
  ASSERT_TRUE(small_session.ok());
  auto no_room = ComputePerplexity(**small_session, testing::EvalTestText(), {.n_ctx = 16});
  ASSERT_FALSE(no_room.ok());
  EXPECT_NE(no_room.error().message.find("session"), std::string::npos) << no_room.error().message;
}

}  // namespace
}  // namespace quantlab
