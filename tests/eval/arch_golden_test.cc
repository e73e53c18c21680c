// Golden checks of each architecture against a reference llama.cpp build: a small synthetic model
// (written here by WriteSynthModel, deterministically) evaluated by ComputePerplexity must give the
// running perplexity after each chunk that the reference's llama-perplexity printed for the same file and
// text. Each tests/data/engine/<arch>_golden.json holds the figures, the model's spec and how they were
// made (which build: llama.cpp c392e509 for phi3, llama3 and gemma2, ik_llama.cpp for qwen3 and gemma3,
// which c392e509 predates).
#include <gtest/gtest.h>

#include <fmt/format.h>

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
  s.sliding_window = j.value("sliding_window", 0);
  s.head_dim = j.value("head_dim", 0);
  s.tied_embeddings = j.value("tied", false);
  s.attn_softcap = j.value("attn_softcap", s.attn_softcap);
  s.final_softcap = j.value("final_softcap", s.final_softcap);
  s.rope_scaling_factor = j.value("rope_scaling_factor", 0.0f);
  s.weight_std = j["std"].get<float>();
  s.seed = j["seed"].get<uint64_t>();
  s.weight_type = j.value("type", std::string("f16")) == "f32" ? GgmlType::kF32 : GgmlType::kF16;
  return s;
}

class ArchGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ArchGoldenTest, PerChunkPerplexityEqualsReference) {
  const std::string file = fmt::format("engine/{}_golden.json", GetParam());
  std::ifstream in(testing::TestDataPath(file));
  ASSERT_TRUE(in) << "missing tests/data/" << file;
  const nlohmann::json golden = nlohmann::json::parse(in);
  testing::TempDir dir;
  const std::string path = (dir / "model.gguf").string();
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
  const double stderr_want = expected["ppl_stderr"].get<double>();
  EXPECT_NEAR(result->ppl_stderr, stderr_want, 1e-4 + stderr_want * rel);
}

INSTANTIATE_TEST_SUITE_P(Architectures, ArchGoldenTest,
                         ::testing::Values("phi3", "qwen3", "llama3", "gemma2", "gemma3"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace quantlab
