// The IQ2 recipes (IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M) against llama-quantize c392e509's rules for them
// (llama_tensor_get_type in src/llama-quant.cpp; no llama-quantize output is recorded for these
// recipes). llama.cpp types the tensors of these recipes in a branch of its own: output Q5_K,
// token_embd Q2_K (IQ2_XXS, IQ2_XS) or IQ3_S (IQ2_S, IQ2_M), attn_v Q4_K under GQA >= 4 or with >= 4
// experts and otherwise Q2_K / IQ3_S, attn_k Q4_K with 8 experts, the first eighth of the ffn_down
// tensors (counted, never read from the name) Q2_K / IQ3_S, attn_output Q5_K with 8 experts and IQ3_S
// for IQ2_S/IQ2_M; everything else the default (IQ2_XXS, IQ2_XS, IQ2_XS for IQ2_S, IQ2_S for IQ2_M).
// The rules are restated here from llama-quant.cpp, independently of tensor_rules.cc's roles, and
// checked on every recorded synthetic shape; then the whole pipeline with an importance matrix, and the
// demo model with the demo imatrix against llama-quantize's files (tests/data/recipes/iq2/).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "quantlab/gguf/reader.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/quant/imatrix_gguf.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/recipes/imatrix_rules.h"
#include "quantlab/recipes/model_facts.h"
#include "quantlab/recipes/plan.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/recipes/tensor_rules.h"
#include "quantlab/synth/synth_model.h"
#include "quantlab/util/hash.h"
#include "recipes/expectations.h"
#include "recipes/synth_gqa4.h"

namespace quantlab {
namespace {

using T = GgmlType;
using testing::LoadShapeExpectations;
using testing::RecipeExpectationFiles;

constexpr Recipe kIq2Recipes[] = {Recipe::kIQ2_XXS, Recipe::kIQ2_XS, Recipe::kIQ2_S, Recipe::kIQ2_M};

bool Has(const std::string& name, const char* part) { return name.find(part) != std::string::npos; }

// llama_tensor_get_type's IQ2 branch for one tensor, walked in llama-quantize's order (`i_ffn_down`
// counts the ffn_down tensors seen), then its row-length fallback.
T ExpectedType(Recipe recipe, const std::string& name, int64_t row_length, const ModelFacts& m,
               bool has_output, int& i_ffn_down) {
  const T def = RecipeInfoFor(recipe).default_type;
  const bool s_or_m = recipe == Recipe::kIQ2_S || recipe == Recipe::kIQ2_M;
  const T more = s_or_m ? T::kIQ3_S : T::kQ2_K;
  T t = def;
  if (name == "output.weight" || (!has_output && name == "token_embd.weight")) {
    t = m.is_falcon() || row_length % 256 != 0 ? T::kQ8_0 : T::kQ5_K;
  } else if (name == "token_embd.weight") {
    t = s_or_m ? T::kIQ3_S : T::kQ2_K;
  } else if (Has(name, "attn_v.weight")) {
    t = m.n_gqa() >= 4 || m.n_expert >= 4 ? T::kQ4_K : more;
  } else if (m.n_expert == 8 && Has(name, "attn_k.weight")) {
    t = T::kQ4_K;
  } else if (Has(name, "ffn_down")) {
    if (i_ffn_down < m.n_layer / 8) t = more;
    ++i_ffn_down;
  } else if (Has(name, "attn_output.weight")) {
    if (m.n_expert == 8) {
      t = T::kQ5_K;
    } else if (s_or_m) {
      t = T::kIQ3_S;
    }
  }
  if (row_length % TypeInfo(t).block_size != 0) {
    switch (t) {
      case T::kQ4_K:
        t = T::kQ5_0;
        break;
      case T::kQ5_K:
        t = T::kQ5_1;
        break;
      default:  // the IQ2/IQ3 types and Q2_K
        t = T::kIQ4_NL;
        break;
    }
    if (row_length % TypeInfo(t).block_size != 0) t = T::kF16;
  }
  return t;
}

TEST(Iq2Recipes, TableNamesNumbersAndDefaults) {
  EXPECT_EQ(FindRecipe("IQ2_XXS"), Recipe::kIQ2_XXS);
  EXPECT_EQ(FindRecipe("iq2_xs"), Recipe::kIQ2_XS);
  EXPECT_EQ(FindRecipe("28"), Recipe::kIQ2_S);
  EXPECT_EQ(FindRecipe("29"), Recipe::kIQ2_M);
  EXPECT_EQ(FileTypeValue(Recipe::kIQ2_XXS), 19u);
  EXPECT_EQ(FileTypeValue(Recipe::kIQ2_XS), 20u);
  EXPECT_EQ(RecipeInfoFor(Recipe::kIQ2_XXS).default_type, T::kIQ2_XXS);
  EXPECT_EQ(RecipeInfoFor(Recipe::kIQ2_XS).default_type, T::kIQ2_XS);
  EXPECT_EQ(RecipeInfoFor(Recipe::kIQ2_S).default_type, T::kIQ2_XS);  // llama.cpp's choice
  EXPECT_EQ(RecipeInfoFor(Recipe::kIQ2_M).default_type, T::kIQ2_S);
  for (Recipe r : kIq2Recipes) {
    EXPECT_TRUE(IsIq2Mixture(r));
    EXPECT_TRUE(RecipeTakesImatrix(r));
  }
  // llama-quantize refuses these up front without an imatrix; IQ2_M is refused per tensor instead.
  EXPECT_TRUE(RecipeNeedsImatrix("IQ2_XXS"));
  EXPECT_TRUE(RecipeNeedsImatrix("IQ2_XS"));
  EXPECT_TRUE(RecipeNeedsImatrix("IQ2_S"));
  EXPECT_FALSE(RecipeNeedsImatrix("IQ2_M"));
  EXPECT_FALSE(IsIq2Mixture(Recipe::kIQ3_XXS));
}

TEST(Iq2Recipes, MixtureRules) {
  ModelFacts mha;
  mha.arch = "llama";
  mha.n_layer = 32;
  mha.n_head = 32;
  mha.n_head_kv = 32;
  ModelFacts gqa4 = mha;
  gqa4.n_head_kv = 8;
  ModelFacts moe4 = mha;
  moe4.n_expert = 4;
  ModelFacts moe8 = gqa4;
  moe8.n_expert = 8;
  ModelFacts llama70b = gqa4;
  llama70b.n_layer = 80;
  ASSERT_TRUE(llama70b.is_70b());
  auto type = [](Recipe r, const ModelFacts& m, TensorRole role, int i_layer = 10) {
    RuleInput in{.recipe = r,
                 .default_type = RecipeInfoFor(r).default_type,
                 .model = &m,
                 .has_imatrix = true,
                 .row_length = 4096,
                 .i_layer = i_layer,
                 .n_layer = m.n_layer};
    return MixtureType(role, in);
  };
  for (Recipe r : {Recipe::kIQ2_XXS, Recipe::kIQ2_XS}) {
    const T def = RecipeInfoFor(r).default_type;
    EXPECT_EQ(type(r, mha, TensorRole::kOutput), T::kQ5_K);
    EXPECT_EQ(type(r, mha, TensorRole::kTokenEmbedding), T::kQ2_K);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnV), T::kQ2_K);
    EXPECT_EQ(type(r, gqa4, TensorRole::kAttnV), T::kQ4_K);
    EXPECT_EQ(type(r, moe4, TensorRole::kAttnV), T::kQ4_K);      // >= 4 experts, MHA
    EXPECT_EQ(type(r, moe8, TensorRole::kAttnV), T::kQ4_K);      // not Q8_0 as in the other recipes
    EXPECT_EQ(type(r, llama70b, TensorRole::kAttnV), T::kQ4_K);  // no 70B bump to Q5_K
    EXPECT_EQ(type(r, mha, TensorRole::kAttnK), def);
    EXPECT_EQ(type(r, moe4, TensorRole::kAttnK), def);
    EXPECT_EQ(type(r, moe8, TensorRole::kAttnK), T::kQ4_K);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnQ), def);
    EXPECT_EQ(type(r, mha, TensorRole::kFfnDown, 3), T::kQ2_K);  // 3 < 32 / 8
    EXPECT_EQ(type(r, mha, TensorRole::kFfnDown, 4), def);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnOutput), def);
    EXPECT_EQ(type(r, moe8, TensorRole::kAttnOutput), T::kQ5_K);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnQkv), def);
    EXPECT_EQ(type(r, mha, TensorRole::kFfnGate), def);
    EXPECT_EQ(type(r, mha, TensorRole::kFfnUp), def);
    EXPECT_EQ(type(r, mha, TensorRole::kOther), def);
  }
  for (Recipe r : {Recipe::kIQ2_S, Recipe::kIQ2_M}) {
    const T def = RecipeInfoFor(r).default_type;
    EXPECT_EQ(type(r, mha, TensorRole::kOutput), T::kQ5_K);
    EXPECT_EQ(type(r, mha, TensorRole::kTokenEmbedding), T::kIQ3_S);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnV), T::kIQ3_S);
    EXPECT_EQ(type(r, gqa4, TensorRole::kAttnV), T::kQ4_K);
    EXPECT_EQ(type(r, moe8, TensorRole::kAttnK), T::kQ4_K);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnK), def);
    EXPECT_EQ(type(r, mha, TensorRole::kFfnDown, 0), T::kIQ3_S);
    EXPECT_EQ(type(r, mha, TensorRole::kFfnDown, 31), def);
    EXPECT_EQ(type(r, mha, TensorRole::kAttnOutput), T::kIQ3_S);
    EXPECT_EQ(type(r, moe8, TensorRole::kAttnOutput), T::kQ5_K);
    EXPECT_EQ(type(r, mha, TensorRole::kFfnGate), def);
  }
}

// Every recorded synthetic shape (dense, GQA, MoE with 4 and 8 experts, tied embeddings, fused QKV,
// 80 layers, rows that 256 does not divide), every IQ2 recipe, every tensor.
TEST(Iq2Recipes, PlansFollowLlamaQuantizesRulesOnEveryShape) {
  int checked = 0;
  for (const auto& path : RecipeExpectationFiles()) {
    const auto shape = LoadShapeExpectations(path);
    auto facts = ReadModelFacts(shape.metadata);
    ASSERT_TRUE(facts.ok()) << facts.error().message;
    bool has_output = false;
    for (const auto& t : shape.tensors) has_output |= t.name == "output.weight";
    for (Recipe recipe : kIq2Recipes) {
      SCOPED_TRACE(shape.shape_name + " " + std::string(RecipeName(recipe)));
      QuantizeOptions options;
      options.has_imatrix = true;
      auto plan = PlanQuantization(*facts, shape.tensors, recipe, options);
      ASSERT_TRUE(plan.ok()) << plan.error().message;
      // The order is llama-quantize's (checked against its files in plan_test.cc).
      ASSERT_EQ(plan->tensors.size(), shape.output_order.size());
      int i_ffn_down = 0;
      int n_fallback = 0;
      for (size_t i = 0; i < plan->tensors.size(); ++i) {
        const TensorDecision& d = plan->tensors[i];
        EXPECT_EQ(d.name, shape.output_order[i]);
        if (!d.quantizable) {
          EXPECT_EQ(d.type, d.source_type) << d.name;
          continue;
        }
        const int64_t row_length = d.shape[0];
        const T want = ExpectedType(recipe, d.name, row_length, *facts, has_output, i_ffn_down);
        EXPECT_EQ(TypeName(d.type), TypeName(want)) << d.name;
        n_fallback += d.fallback;
        ++checked;
      }
      EXPECT_EQ(plan->n_fallback, n_fallback);
    }
  }
  EXPECT_GT(checked, 1000);
}

// Counts on two shapes, worked out by hand from llama-quant.cpp.
TEST(Iq2Recipes, TypeCountsOnTwoShapes) {
  auto counts = [](const std::string& shape_name, Recipe recipe) {
    const auto shape = LoadShapeExpectations(testing::TestDataPath("recipes/" + shape_name + ".json"));
    auto facts = ReadModelFacts(shape.metadata);
    EXPECT_TRUE(facts.ok());
    QuantizeOptions options;
    options.has_imatrix = true;
    auto plan = PlanQuantization(*facts, shape.tensors, recipe, options);
    EXPECT_TRUE(plan.ok());
    std::map<std::string, int> n;
    for (const auto& d : plan->tensors) {
      if (d.quantizable) ++n[std::string(TypeName(d.type))];
    }
    return n;
  };
  // 32 layers, GQA 4, output.weight of its own: attn_v Q4_K, ffn_down of layers 0..3 Q2_K / IQ3_S.
  using Counts = std::map<std::string, int>;
  EXPECT_EQ(counts("l32_gqa4", Recipe::kIQ2_XXS),
            (Counts{{"q5_K", 1}, {"q2_K", 1 + 4}, {"q4_K", 32}, {"iq2_xxs", 32 * 5 + 28}}));
  EXPECT_EQ(counts("l32_gqa4", Recipe::kIQ2_XS),
            (Counts{{"q5_K", 1}, {"q2_K", 1 + 4}, {"q4_K", 32}, {"iq2_xs", 32 * 5 + 28}}));
  EXPECT_EQ(counts("l32_gqa4", Recipe::kIQ2_S),
            (Counts{{"q5_K", 1}, {"iq3_s", 1 + 4 + 32}, {"q4_K", 32}, {"iq2_xs", 32 * 4 + 28}}));
  EXPECT_EQ(counts("l32_gqa4", Recipe::kIQ2_M),
            (Counts{{"q5_K", 1}, {"iq3_s", 1 + 4 + 32}, {"q4_K", 32}, {"iq2_s", 32 * 4 + 28}}));
  // 2 layers, 8 experts: attn_v and attn_k Q4_K, attn_output Q5_K, the experts' tensors the default.
  EXPECT_EQ(counts("moe8", Recipe::kIQ2_XXS),
            (Counts{{"q5_K", 1 + 2}, {"q2_K", 1}, {"q4_K", 2 + 2}, {"iq2_xxs", 2 * 4}}));
  EXPECT_EQ(counts("moe8", Recipe::kIQ2_M),
            (Counts{{"q5_K", 1 + 2}, {"iq3_s", 1}, {"q4_K", 2 + 2}, {"iq2_s", 2 * 4}}));
}

// The 16-layer GQA-4 synthetic model: every tensor's type as llama-quantize chose it with an imatrix
// (tests/data/recipes/iq2/; its files and quantlab's were byte-identical). Here the rules fire: 16
// attn_v Q4_K, the ffn_down of layers 0 and 1 Q2_K / IQ3_S.
TEST(Iq2Recipes, SyntheticGqa4TypesEqualLlamaQuantizes) {
  testing::TempDir dir;
  const std::string model = (dir / "gqa4.gguf").string();
  ASSERT_TRUE(WriteSynthModel(testing::SynthGqa4L16Spec(), model).ok());
  auto source = GgufFile::Open(model);
  ASSERT_TRUE(source.ok()) << source.error().message;
  auto facts = ReadModelFacts(source->metadata());
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  std::ifstream in(testing::TestDataPath("recipes/iq2/synth_gqa4_l16_types.json"));
  ASSERT_TRUE(in);
  const nlohmann::json expected = nlohmann::json::parse(in)["recipes"];
  ASSERT_EQ(expected.size(), 4u);
  for (const auto& [recipe_name, types] : expected.items()) {
    SCOPED_TRACE(recipe_name);
    QuantizeOptions options;
    options.has_imatrix = true;
    auto plan = PlanQuantization(*facts, source->tensors(), FindRecipe(recipe_name).value(), options);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    ASSERT_EQ(plan->tensors.size(), types.size());
    for (const TensorDecision& d : plan->tensors) {
      ASSERT_TRUE(types.contains(d.name)) << d.name;
      EXPECT_EQ(std::string(TypeName(d.type)), types[d.name].get<std::string>()) << d.name;
    }
  }
}

// An 8-layer GQA-4 synthetic model (the 16-layer one's width, a smaller FFN and vocabulary: the IQ2
// searches are slow).
SynthModelSpec SmallGqa4Spec() {
  SynthModelSpec spec = testing::SynthGqa4L16Spec();
  spec.n_layer = 8;
  spec.n_ff = 256;
  spec.n_vocab = 512;
  return spec;
}

// The whole pipeline on a synthetic GQA-4 model with an importance matrix: every tensor as planned, the
// first tensor of each type byte for byte what QuantizeRows gives for the source values and their
// importance, and every quantized tensor's values close to the source.
TEST(Iq2Recipes, QuantizeModelWithImportanceMatrix) {
  testing::TempDir dir;
  const std::string model = (dir / "gqa4.gguf").string();
  ASSERT_TRUE(WriteSynthModel(SmallGqa4Spec(), model).ok());
  auto source = GgufFile::Open(model);
  ASSERT_TRUE(source.ok()) << source.error().message;
  ImportanceMatrix imatrix;
  for (const auto& t : source->tensors()) {
    std::vector<float> weights(static_cast<size_t>(t.shape[0]));
    for (size_t i = 0; i < weights.size(); ++i) weights[i] = 0.25f + static_cast<float>(i % 5);
    imatrix.entries[t.name] = weights;
  }
  for (Recipe recipe : kIq2Recipes) {
    SCOPED_TRACE(RecipeName(recipe));
    QuantizeModelOptions options;
    options.recipe = recipe;
    options.threads = 2;
    options.imatrix = &imatrix;
    const std::string out = (dir / (std::string(RecipeName(recipe)) + ".gguf")).string();
    auto report = QuantizeModel(model, out, options);
    ASSERT_TRUE(report.ok()) << report.error().message;
    auto file = GgufFile::Open(out);
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(file->metadata().GetInt("general.file_type"), static_cast<int64_t>(FileTypeValue(recipe)));
    std::map<std::string, int> types;
    for (const GgufTensorInfo& t : file->tensors()) {
      ++types[std::string(TypeName(t.type))];
      const GgufTensorInfo* src = source->FindTensor(t.name);
      ASSERT_NE(src, nullptr);
      if (t.type == src->type) continue;
      const int64_t n = t.n_elements();
      std::vector<float> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
      DequantizeRow(src->type, source->TensorData(*src).data(), x.data(), n);
      const auto got = file->TensorData(t);
      if (types[std::string(TypeName(t.type))] == 1) {
        std::vector<uint8_t> want(RowBytes(t.type, t.row_length()) * t.n_rows());
        QuantizeRows(t.type, x.data(), want.data(), t.n_rows(), t.row_length(),
                     imatrix.entries[t.name].data());
        ASSERT_EQ(got.size(), want.size()) << t.name;
        EXPECT_EQ(std::memcmp(got.data(), want.data(), want.size()), 0) << t.name;
      }
      DequantizeRow(t.type, got.data(), y.data(), n);
      double dot = 0, xx = 0, yy = 0;
      for (int64_t i = 0; i < n; ++i) {
        dot += static_cast<double>(x[i]) * y[i];
        xx += static_cast<double>(x[i]) * x[i];
        yy += static_cast<double>(y[i]) * y[i];
      }
      EXPECT_GT(dot / std::sqrt(xx * yy), 0.9) << t.name << " " << TypeName(t.type);
    }
    const std::string def(TypeName(RecipeInfoFor(recipe).default_type));
    // 8 layers: attn_q, attn_k, ffn_gate, ffn_up, 7 ffn_down (+ 8 attn_output for IQ2_XXS/IQ2_XS).
    const bool s_or_m = recipe == Recipe::kIQ2_S || recipe == Recipe::kIQ2_M;
    EXPECT_EQ(types[def], 8 * 4 + 7 + (s_or_m ? 0 : 8));
    EXPECT_EQ(types["q4_K"], 8);  // attn_v under GQA 4
    EXPECT_EQ(types["q5_K"], 1);  // output
  }
}

TEST(Iq2Recipes, WithoutImatrixRefusedAsLlamaQuantizeDoes) {
  testing::TempDir dir;
  const std::string model = (dir / "gqa4.gguf").string();
  ASSERT_TRUE(WriteSynthModel(SmallGqa4Spec(), model).ok());
  for (Recipe recipe : kIq2Recipes) {
    SCOPED_TRACE(RecipeName(recipe));
    QuantizeModelOptions options;
    options.recipe = recipe;
    const std::string out = (dir / "out.gguf").string();
    auto report = QuantizeModel(model, out, options);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.error().message.find("importance matrix"), std::string::npos) << report.error().message;
    if (recipe == Recipe::kIQ2_M) {
      // Not refused up front: the first IQ2_S tensor is (attn_k, attn_output and attn_q of layer 0
      // come in name order; token_embd is IQ3_S).
      EXPECT_NE(report.error().message.find("blk.0.attn_k.weight"), std::string::npos)
          << report.error().message;
    }
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

// The demo model with the demo imatrix: every tensor's type and bytes equal llama-quantize's (one test
// per recipe, so ctest runs them side by side: the IQ2 searches take seconds each).
class Iq2DemoRecipe : public ::testing::TestWithParam<Recipe> {};

TEST_P(Iq2DemoRecipe, TensorsEqualLlamaQuantizesWithTheDemoImatrix) {
  const auto model = testing::DemoPath("demo-f16.gguf");
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "demo model not found at " << model;
  auto imatrix = ReadImatrixFile(testing::TestDataPath("recipes/demo_imatrix/demo.imatrix"));
  ASSERT_TRUE(imatrix.ok()) << imatrix.error().message;
  std::ifstream in(testing::TestDataPath("recipes/iq2/demo_imatrix.json"));
  ASSERT_TRUE(in);
  const std::string recipe_name(RecipeName(GetParam()));
  const nlohmann::json expected = nlohmann::json::parse(in)["recipes"][recipe_name];
  ASSERT_FALSE(expected.empty());
  testing::TempDir dir;
  QuantizeModelOptions options;
  options.recipe = GetParam();
  options.threads = 2;
  options.imatrix = &*imatrix;
  const std::string out = (dir / (recipe_name + ".gguf")).string();
  auto report = QuantizeModel(model.string(), out, options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  auto file = GgufFile::Open(out);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->tensors().size(), expected.size());
  for (const GgufTensorInfo& t : file->tensors()) {
    ASSERT_TRUE(expected.contains(t.name)) << t.name;
    EXPECT_EQ(std::string(TypeName(t.type)), expected[t.name]["type"].get<std::string>()) << t.name;
    EXPECT_EQ(Sha256Hex(file->TensorData(t)), expected[t.name]["sha256"].get<std::string>())
        << t.name << " differs from llama-quantize's";
  }
}

INSTANTIATE_TEST_SUITE_P(Recipes, Iq2DemoRecipe, ::testing::ValuesIn(kIq2Recipes),
                         [](const auto& info) { return std::string(RecipeName(info.param)); });
// IQ1_S and IQ1_M share the IQ2 recipes' branch of llama-quantize's rules (attn_output IQ2_XXS).
INSTANTIATE_TEST_SUITE_P(Iq1Recipes, Iq2DemoRecipe, ::testing::Values(Recipe::kIQ1_S, Recipe::kIQ1_M),
                         [](const auto& info) { return std::string(RecipeName(info.param)); });

}  // namespace
}  // namespace quantlab
