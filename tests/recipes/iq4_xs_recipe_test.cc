// quantlab quantize IQ4_XS against llama-quantize c392e509 (SHA-256 per tensor, tests/data/recipes/iq4_xs/):
// the demo model without an importance matrix (with the demo's imatrix the check is in
// real_imatrix_test.cc), and a 16-layer synthetic model with GQA 4, where the recipe's rules fire (attn_v
// Q5_K, the first two ffn_down Q5_K).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "quantlab/gguf/reader.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/synth/synth_model.h"
#include "quantlab/util/hash.h"
#include "recipes/synth_gqa4.h"
#include "support/paths.h"

namespace quantlab {
namespace {

nlohmann::json ReadExpectation(const std::string& name) {
  std::ifstream in(testing::TestDataPath("recipes/iq4_xs/" + name));
  EXPECT_TRUE(in) << name;
  return nlohmann::json::parse(in);
}

// Quantizes `model` to IQ4_XS and returns the output file, opened.
GgufFile QuantizeIq4Xs(const std::string& model, const testing::TempDir& dir) {
  QuantizeModelOptions options;
  options.recipe = Recipe::kIQ4_XS;
  options.threads = 2;
  const std::string out = (dir / "iq4_xs.gguf").string();
  auto report = QuantizeModel(model, out, options);
  EXPECT_TRUE(report.ok()) << report.error().message;
  auto file = GgufFile::Open(out);
  EXPECT_TRUE(file.ok()) << file.error().message;
  return std::move(file).value();
}

TEST(Iq4XsRecipe, DemoTensorsEqualLlamaQuantizesWithoutImatrix) {
  const auto model = testing::DemoPath("demo-f16.gguf");
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "demo model not found at " << model;
  const nlohmann::json tensors = ReadExpectation("demo_no_imatrix.json")["recipes"]["IQ4_XS"];
  ASSERT_FALSE(tensors.empty());
  testing::TempDir dir;
  const GgufFile file = QuantizeIq4Xs(model.string(), dir);
  ASSERT_EQ(file.tensors().size(), tensors.size());
  int iq4_xs = 0;
  for (const GgufTensorInfo& t : file.tensors()) {
    ASSERT_TRUE(tensors.contains(t.name)) << t.name;
    EXPECT_EQ(Sha256Hex(file.TensorData(t)), tensors[t.name].get<std::string>())
        << t.name << " differs from llama-quantize's";
    iq4_xs += t.type == GgmlType::kIQ4_XS ? 1 : 0;
  }
  EXPECT_EQ(iq4_xs, 29);  // all 2-D weights but output.weight (Q6_K)
}

TEST(Iq4XsRecipe, SyntheticGqa4TensorsEqualLlamaQuantizes) {
  const SynthModelSpec spec = testing::SynthGqa4L16Spec();
  testing::TempDir dir;
  const std::string model = (dir / "gqa4.gguf").string();
  ASSERT_TRUE(WriteSynthModel(spec, model).ok());
  const nlohmann::json tensors = ReadExpectation("synth_gqa4_l16.json")["tensors"];
  const GgufFile file = QuantizeIq4Xs(model, dir);
  ASSERT_EQ(file.tensors().size(), tensors.size());
  std::map<std::string, int> types;
  for (const GgufTensorInfo& t : file.tensors()) {
    ASSERT_TRUE(tensors.contains(t.name)) << t.name;
    const auto& want = tensors[t.name];
    EXPECT_EQ(std::string(TypeName(t.type)), want["type"].get<std::string>()) << t.name;
    EXPECT_EQ(Sha256Hex(file.TensorData(t)), want["sha256"].get<std::string>())
        << t.name << " differs from llama-quantize's";
    ++types[std::string(TypeName(t.type))];
  }
  EXPECT_EQ(types["q5_K"], 18);  // 16 attn_v (GQA 4) + ffn_down of layers 0 and 1 (no imatrix)
  EXPECT_EQ(types["q6_K"], 1);
  EXPECT_EQ(types["iq4_xs"], 95);
}

}  // namespace
}  // namespace quantlab
