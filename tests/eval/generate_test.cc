// Sampling and generation: greedy equals an argmax loop, seeds are deterministic, filters work.
#include "quantlab/eval/generate.h"

#include <gtest/gtest.h>

#include <set>

#include "eval/eval_test_util.h"

namespace quantlab {
namespace {

using testing::TempDir;

TEST(SamplerTest, GreedyAndFilters) {
  const std::vector<float> logits = {0.1f, 2.0f, 1.9f, -1.0f, 2.0f};
  Sampler greedy({.temperature = 0});
  EXPECT_EQ(greedy.Sample(logits), 1);  // ties go to the lower id
  EXPECT_EQ(ArgMax(logits), 1);
  Sampler top1({.temperature = 1.0f, .top_k = 1, .top_p = 1.0f, .seed = 3});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(top1.Sample(logits), 1);
  Sampler top2({.temperature = 1.0f, .top_k = 2, .top_p = 1.0f, .seed = 3});
  std::set<int32_t> seen;
  for (int i = 0; i < 200; ++i) seen.insert(top2.Sample(logits));
  EXPECT_EQ(seen, (std::set<int32_t>{1, 4}));
  Sampler nucleus({.temperature = 1.0f, .top_k = 0, .top_p = 0.01f, .seed = 3});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(nucleus.Sample(logits), 1);
}

TEST(SamplerTest, SameSeedSameSequence) {
  std::vector<float> logits(50);
  for (int i = 0; i < 50; ++i) logits[i] = 0.1f * (i % 7);
  auto draw = [&](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 30; ++i) out.push_back(s.Sample(logits));
    return out;
  };
  EXPECT_EQ(draw(42), draw(42));
  EXPECT_NE(draw(42), draw(43));
}

TEST(GenerateTest, GreedyEqualsArgmaxLoopAndStreams) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  auto session = Session::Create(*model, {.n_ctx = 64, .n_threads = 2});
  ASSERT_TRUE(session.ok());
  std::string streamed;
  int n_streamed = 0;
  GenerateOptions options;
  options.n_predict = 12;
  options.sampling.temperature = 0;
  options.stop_at_eog = false;
  auto result = Generate(**session, "The quick brown fox", options, [&](int32_t, std::string_view piece) {
    streamed += piece;
    ++n_streamed;
    return true;
  });
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->tokens.size(), 12u);
  EXPECT_EQ(n_streamed, 12);
  EXPECT_EQ(streamed, result->text);
  EXPECT_GT(result->prompt_tokens_per_second(), 0);

  // By hand: decode the prompt, then feed back the argmax each step.
  auto manual = Session::Create(*model, {.n_ctx = 64, .n_threads = 1});
  ASSERT_TRUE(manual.ok());
  std::vector<int32_t> prompt = model->tokenizer().Encode("The quick brown fox", true, true);
  EXPECT_EQ(prompt, result->prompt_tokens);
  auto logits = (*manual)->Decode(prompt);
  ASSERT_TRUE(logits.ok());
  std::vector<int32_t> expected;
  for (int i = 0; i < 12; ++i) {
    const int32_t next = ArgMax(*logits);
    expected.push_back(next);
    const int32_t one[1] = {next};
    logits = (*manual)->Decode(one);
    ASSERT_TRUE(logits.ok());
  }
  EXPECT_EQ(result->tokens, expected);
}

TEST(GenerateTest, SeededSamplingIsDeterministic) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  auto session = Session::Create(*model, {.n_ctx = 64, .n_threads = 2});
  ASSERT_TRUE(session.ok());
  GenerateOptions options;
  options.n_predict = 10;
  options.sampling = {.temperature = 0.7f, .top_k = 40, .top_p = 0.9f, .seed = 42};
  options.stop_at_eog = false;
  auto a = Generate(**session, "Once upon a time", options);
  auto b = Generate(**session, "Once upon a time", options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
}

TEST(GenerateTest, BadPrompts) {
  TempDir dir;
  auto model = testing::LoadEvalTestModel(dir, "m.gguf");
  ASSERT_NE(model, nullptr);
  auto session = Session::Create(*model, {.n_ctx = 8, .n_threads = 1});
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE(Generate(**session, "", {}).ok());
  auto long_prompt = Generate(**session, testing::EvalTestText(), {});
  ASSERT_FALSE(long_prompt.ok());
  EXPECT_NE(long_prompt.error().message.find("does not leave room"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
