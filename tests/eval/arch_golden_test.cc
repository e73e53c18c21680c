// Golden checks of the phi3 and gemma2 architectures against llama.cpp: a small synthetic model of each
// (written here by WriteSynthModel, deterministically) evaluated by ComputePerplexity must give the
// running perplexity after each chunk that llama-perplexity c392e509 printed for the same file and text.
// The figures and how they were made are in tests/data/engine/<arch>_golden.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "quantlab/eval/perplexity.h"
#include "quantlab/model/model.h"
#include "quantlab/synth/synth_model.h"
#include "support/paths.h"

namespace quantlab {
namespace {

// The spec is read from the golden file, so the figures and the model they belong to stay together.
SynthModelSpec SpecFrom(const nlohmann::json& j) {
  SynthModelSpec s;
  s.arch = j["arch"].get<std::string>();
  s.n_layer = j["layers"].get<int>();
  s.n_embd = j["embd"].get<int>();
  s.n_head = j["heads"].get<int>();
  s.n_head_kv = j["heads_kv"].get<int>();
  s.n_ff = j["ff"].get<int>();
  s.n_vocab = j["vocab"].get<int>();
  s.n_ctx_train = j["ctx"].get<int>();
  s.sliding_window = j["sliding_window"].get<int>();
  s.attn_softcap = j.value("attn_softcap", s.attn_softcap);
  s.final_softcap = j.value("final_softcap", s.final_softcap);
  s.weight_std = j["std"].get<float>();
  s.seed = j["seed"].get<uint64_t>();
  s.weight_type = GgmlType::kF16;
  return s;
}

class ArchGoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ArchGoldenTest, PerChunkPerplexityEqualsLlamaCpp) {
  const std::string file = "engine/" + GetParam() + "_golden.json";
  std::ifstream in(testing::TestDataPath(file));
  ASSERT_TRUE(in) << "missing tests/data/" << file;
  const nlohmann::json golden = nlohmann::json::parse(in);
  testing::TempDir dir;
  const std::string path = (dir / (GetParam() + ".gguf")).string();
  ASSERT_TRUE(WriteSynthModel(SpecFrom(golden["model"]), path).ok());
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.error().message;

  const auto& expected = golden["perplexity"];
  const int n_ctx = expected["n_ctx"].get<int>();
  const auto& running = expected["running_ppl"];
  auto session = Session::Create(**model, {.n_ctx = n_ctx, .n_threads = 2});
  ASSERT_TRUE(session.ok()) << session.error().message;
  const std::string text = testing::ReadTestFile(testing::DemoPath("eval.txt"));
  std::vector<double> got;
  auto result =
      ComputePerplexity(**session, text, {.n_ctx = n_ctx, .max_chunks = static_cast<int>(running.size())},
                        [&](const PerplexityChunk&, const NllStats& totals, int, int) {
                          got.push_back(totals.Ppl());
                          return true;
                        });
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(got.size(), running.size());
  // llama.cpp prints 4 decimals; the engine matches it to ~1e-5 relative over a few layers (the file
  // says when more layers need more).
  const double rel = expected.value("rel_tolerance", 1e-5);
  for (size_t i = 0; i < got.size(); ++i) {
    const double want = running[i].get<double>();
    EXPECT_NEAR(got[i], want, 1e-4 + want * rel) << "chunk " << i + 1;
  }
  EXPECT_NEAR(result->ppl_stderr, expected["ppl_stderr"].get<double>(), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Architectures, ArchGoldenTest, ::testing::Values("phi3", "gemma2"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace quantlab
