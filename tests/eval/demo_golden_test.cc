// Golden end-to-end checks on the trained demo model (models/demo/demo-f16.gguf): greedy continuations
// and perplexity equal llama.cpp's on the same model and text. The expected values in
// tests/data/engine/demo_golden.json were produced by llama.cpp (llama-simple for greedy text,
// llama-perplexity for PPL) at commit c392e509. Skipped when the demo model is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "quantlab/eval/generate.h"
#include "quantlab/eval/perplexity.h"
#include "support/paths.h"

namespace quantlab {
namespace {

class DemoGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto model_path = testing::DemoPath("demo-f16.gguf");
    if (!std::filesystem::exists(model_path)) GTEST_SKIP() << "demo model not found at " << model_path;
    std::ifstream in(testing::TestDataPath("engine/demo_golden.json"));
    ASSERT_TRUE(in) << "missing tests/data/engine/demo_golden.json";
    golden_ = nlohmann::json::parse(in);
    auto model = Model::Load(model_path.string());
    ASSERT_TRUE(model.ok()) << model.error().message;
    model_ = std::move(model).value();
  }
  nlohmann::json golden_;
  std::unique_ptr<Model> model_;
};

TEST_F(DemoGoldenTest, GreedyTextEqualsLlamaCpp) {
  auto session = Session::Create(*model_, {.n_ctx = 256, .n_threads = 2});
  ASSERT_TRUE(session.ok());
  for (const auto& item : golden_["greedy"]) {
    GenerateOptions options;
    options.n_predict = item["n_predict"].get<int>();
    options.sampling.temperature = 0;
    const std::string prompt = item["prompt"].get<std::string>();
    auto result = Generate(**session, prompt, options);
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(prompt + result->text, item["text"].get<std::string>()) << "prompt: " << prompt;
  }
}

TEST_F(DemoGoldenTest, PerplexityEqualsLlamaCpp) {
  const std::string text = testing::ReadTestFile(testing::DemoPath("eval.txt"));
  const auto& expected = golden_["perplexity"];
  const int n_ctx = expected["n_ctx"].get<int>();
  auto session = Session::Create(*model_, {.n_ctx = n_ctx, .n_threads = 2});
  ASSERT_TRUE(session.ok());
  auto result =
      ComputePerplexity(**session, text, {.n_ctx = n_ctx, .max_chunks = expected["chunks"].get<int>()});
  ASSERT_TRUE(result.ok()) << result.error().message;
  const double ppl = expected["ppl"].get<double>();
  // llama.cpp prints 4 decimals; the engine agrees to ~1e-5 relative, the issue asks for 0.1%.
  EXPECT_NEAR(result->ppl, ppl, 1e-4 + ppl * 1e-5);
  EXPECT_NEAR(result->ppl_stderr, expected["ppl_stderr"].get<double>(), 1e-4);
}

}  // namespace
}  // namespace quantlab
