// The task scores' arithmetic on hand-computed cases, and the shared-prefix evaluation against plain
// per-sequence evaluation on a synthetic model.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quantlab/eval/task_scoring.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"

namespace quantlab {
namespace {

TEST(TaskScoring, LogProbsByHand) {
  // logits {0, ln 3}: p = {1/4, 3/4}.
  const std::vector<float> logits = {0.f, std::log(3.f)};
  EXPECT_NEAR(TaskTokenLogProb(logits, 0), std::log(0.25), 1e-6);
  EXPECT_NEAR(TaskTokenLogProb(logits, 1), std::log(0.75), 1e-6);
  EXPECT_NEAR(TaskSoftmaxLogProb(logits, 0), std::log(0.25), 1e-6);
  // Shifting every logit changes nothing.
  const std::vector<float> shifted = {5.f, 5.f + std::log(3.f)};
  EXPECT_NEAR(TaskTokenLogProb(shifted, 1), std::log(0.75), 1e-6);
  // Four equal logits: log(1/4) for each.
  const std::vector<float> flat(4, 2.5f);
  EXPECT_FLOAT_EQ(TaskSoftmaxLogProb(flat, 3), std::log(0.25f));
}

TEST(TaskScoring, CommonPrefixAndRequiredTokens) {
  const std::vector<std::vector<int32_t>> seqs = {{1, 5, 6, 7}, {1, 5, 6, 8, 9}, {1, 5, 2}};
  EXPECT_EQ(CommonPrefixLength(seqs), 2u);
  EXPECT_EQ(RequiredTokens(seqs, 2), 2u + 2 + 3 + 1);
  EXPECT_TRUE(CheckTaskSequences(seqs, 2, 8, "t").ok());
  auto too_long = CheckTaskSequences(seqs, 2, 7, "task 3");
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("task 3: needs 8 tokens"), std::string::npos);
  const std::vector<std::vector<int32_t>> prefix_only = {{1, 5}, {1, 5, 6}};
  EXPECT_FALSE(CheckTaskSequences(prefix_only, CommonPrefixLength(prefix_only), 64, "t").ok());
  const std::vector<std::vector<int32_t>> no_bos = {{4, 5}, {3, 5}};
  EXPECT_FALSE(CheckTaskSequences(no_bos, 0, 64, "t").ok());
}

// The prefix evaluated once and each rest after it gives each sequence's logits as evaluating that
// sequence alone does, and the ending log-probabilities are the per-token ones.
TEST(TaskScoring, SharedPrefixEqualsSeparateEvaluation) {
  testing::TempDir dir;
  SynthModelSpec spec;
  spec.n_layer = 2;
  spec.n_embd = 256;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.n_ff = 512;
  spec.n_vocab = 300;
  spec.n_ctx_train = 64;
  const std::string path = (dir / "m.gguf").string();
  ASSERT_TRUE(WriteSynthModel(spec, path).ok());
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;
  auto session = Session::Create(**model, {.n_ctx = 64, .n_threads = 1});
  ASSERT_TRUE(session.ok());
  const std::vector<std::vector<int32_t>> seqs = {
      {1, 10, 11, 12, 20, 21}, {1, 10, 11, 12, 30}, {1, 10, 11, 12, 40, 41, 42}};
  const size_t cp = CommonPrefixLength(seqs);
  ASSERT_EQ(cp, 4u);
  auto shared = EvaluateSharedPrefix(**session, seqs, cp);
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  const auto ending = EndingTokenLogProbs(*shared, seqs);
  const int n_vocab = (*session)->n_vocab();
  for (size_t s = 0; s < seqs.size(); ++s) {
    (*session)->Reset();
    auto all = (*session)->Decode(seqs[s], static_cast<int>(seqs[s].size()));
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(ending[s].size(), seqs[s].size() - cp);
    for (size_t j = cp - 1; j + 1 < seqs[s].size(); ++j) {
      const auto alone = all->subspan(j * n_vocab, n_vocab);
      const auto shared_row = shared->After(s, j);
      for (int v = 0; v < n_vocab; v += 37) EXPECT_NEAR(shared_row[v], alone[v], 1e-4) << s << " " << j;
      EXPECT_NEAR(ending[s][j - (cp - 1)], TaskTokenLogProb(alone, seqs[s][j + 1]), 1e-4);
    }
  }
}

}  // namespace
}  // namespace quantlab
