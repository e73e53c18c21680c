// `quantlab perplexity` and `quantlab generate` end to end on a small synthetic model.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "quantlab/eval/perplexity.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"
#include "support/run_quantlab.h"

namespace quantlab {
namespace {

using testing::TempDir;

// The JSON these tests parse is on stdout; progress goes to stderr.
testing::CommandOutcome RunQuantlab(const std::string& args) {
  return testing::RunQuantlab(args, testing::Stderr::kDiscard);
}

class EngineCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthModelSpec spec;
    spec.n_layer = 2;
    spec.n_embd = 256;
    spec.n_head = 4;
    spec.n_head_kv = 2;
    spec.n_ff = 512;
    spec.n_vocab = 400;
    spec.n_ctx_train = 64;
    model_ = (dir_ / "m.gguf").string();
    ASSERT_TRUE(WriteSynthModel(spec, model_).ok());
    text_ = (dir_ / "text.txt").string();
    std::ofstream out(text_);
    for (int i = 0; i < 12; ++i) out << "The quick brown fox jumps over the lazy dog near the river bank. ";
  }
  TempDir dir_;
  std::string model_;
  std::string text_;
};

TEST_F(EngineCliTest, PerplexityJsonMatchesLibrary) {
  const testing::CommandOutcome r =
      RunQuantlab("perplexity -m " + model_ + " -f " + text_ + " -c 16 --chunks 3 -t 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  for (const char* key : {"ppl", "ppl_stderr", "n_ctx", "n_chunks", "n_tokens"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["n_ctx"], 16);
  EXPECT_EQ(j["n_chunks"], 3);

  auto model = Model::Load(model_);
  ASSERT_TRUE(model.ok());
  auto session = Session::Create(**model, {.n_ctx = 16, .n_threads = 1});
  ASSERT_TRUE(session.ok());
  const std::string text = testing::ReadTestFile(text_);
  auto expected = ComputePerplexity(**session, text, {.n_ctx = 16, .max_chunks = 3});
  ASSERT_TRUE(expected.ok());
  EXPECT_NEAR(j["ppl"].get<double>(), expected->ppl, expected->ppl * 1e-6);
  EXPECT_EQ(j["n_tokens"].get<int64_t>(), expected->n_tokens);
}

TEST_F(EngineCliTest, KlDivergenceAgainstItself) {
  const testing::CommandOutcome r = RunQuantlab("perplexity -m " + model_ + " -f " + text_ +
                                                " -c 16 --chunks 2 --json --kl-base " + model_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_NEAR(j["kld"]["value"].get<double>(), 0.0, 1e-6);
  EXPECT_DOUBLE_EQ(j["same_top"]["value"].get<double>(), 1.0);
}

TEST_F(EngineCliTest, PerplexityErrorsAreReported) {
  EXPECT_NE(RunQuantlab("perplexity -m " + model_ + " -f /nonexistent.txt").exit_code, 0);
  EXPECT_NE(RunQuantlab("perplexity -m " + model_ + " -f " + text_ + " -c 128").exit_code, 0);
  EXPECT_NE(RunQuantlab("perplexity -m /nonexistent.gguf -f " + text_).exit_code, 0);
}

TEST_F(EngineCliTest, GreedyGenerationIsRepeatable) {
  const std::string args = "generate -m " + model_ + " -p \"The quick brown fox\" -n 8 --temp 0 -t 2";
  const testing::CommandOutcome a = RunQuantlab(args);
  const testing::CommandOutcome b = RunQuantlab(args);
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.output.rfind("The quick brown fox", 0), 0u) << a.output;
  EXPECT_GT(a.output.size(), std::string("The quick brown fox\n").size());
  EXPECT_EQ(a.output, b.output);
}

}  // namespace
}  // namespace quantlab
