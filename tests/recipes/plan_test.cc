// The recipe rules against llama-quantize's actual choices on synthetic models of several shapes
// (tests/data/recipes/*.json): layer counts 1..80, GQA or not, mixture-of-experts, tied embeddings, phi3
// (fused attn_qkv), llama3 (rope_freqs.weight), qwen3 (Q/K norms, wider heads, tied), gemma2 (token_embd
// as the tied output), rows that no 256-block divides (fallbacks), the options and requantization.
#include <gtest/gtest.h>

#include "quantlab/recipes/model_facts.h"
#include "quantlab/recipes/plan.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/recipes/tensor_rules.h"
#include "recipes/expectations.h"

namespace quantlab {
namespace {

using testing::LoadShapeExpectations;
using testing::RecipeExpectationFiles;

class RecipeMatchesLlamaQuantize : public ::testing::TestWithParam<std::filesystem::path> {};

TEST_P(RecipeMatchesLlamaQuantize, EveryCaseEveryTensor) {
  const auto shape = LoadShapeExpectations(GetParam());
  auto facts = ReadModelFacts(shape.metadata);
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  ASSERT_FALSE(shape.cases.empty());

  for (const auto& c : shape.cases) {
    SCOPED_TRACE(shape.shape_name + " " + c.Label());
    std::vector<GgufTensorInfo> tensors =
        c.source_recipe ? testing::RequantizationSource(shape, c) : shape.tensors;
    auto plan = PlanQuantization(*facts, tensors, c.recipe, c.options);
    if (c.error) {
      EXPECT_FALSE(plan.ok()) << "llama-quantize failed with: " << c.llama_message;
      continue;
    }
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    ASSERT_EQ(plan->tensors.size(), shape.output_order.size());
    for (size_t i = 0; i < plan->tensors.size(); ++i) {
      const auto& decision = plan->tensors[i];
      EXPECT_EQ(decision.name, shape.output_order[i]) << "position " << i;
      EXPECT_EQ(TypeName(decision.type), TypeName(c.types[i])) << decision.name;
    }
    EXPECT_EQ(plan->n_fallback, c.n_fallback);
    EXPECT_EQ(FileTypeValue(c.recipe), c.file_type);
    EXPECT_EQ(!plan->warnings.empty(), c.source_recipe.has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, RecipeMatchesLlamaQuantize, ::testing::ValuesIn(RecipeExpectationFiles()),
                         [](const auto& info) { return info.param.stem().string(); });

TEST(RecipeTable, NamesAliasesAndNumbers) {
  EXPECT_EQ(FindRecipe("Q4_K_M"), Recipe::kQ4_K_M);
  EXPECT_EQ(FindRecipe("q4_k_m"), Recipe::kQ4_K_M);
  EXPECT_EQ(FindRecipe("Q4_K"), Recipe::kQ4_K_M);
  EXPECT_EQ(FindRecipe("Q3_K"), Recipe::kQ3_K_M);
  EXPECT_EQ(FindRecipe("Q5_K"), Recipe::kQ5_K_M);
  EXPECT_EQ(FindRecipe("15"), Recipe::kQ4_K_M);
  EXPECT_EQ(FindRecipe("32"), Recipe::kBF16);
  EXPECT_EQ(FindRecipe("Q4_K_X"), std::nullopt);
  EXPECT_EQ(FindRecipe("4"), std::nullopt);  // a retired llama_ftype
  EXPECT_EQ(FindRecipe(""), std::nullopt);
  EXPECT_EQ(AllRecipes().size(), 28u);
  EXPECT_EQ(FindRecipe("iq1_s"), Recipe::kIQ1_S);
  EXPECT_EQ(FindRecipe("31"), Recipe::kIQ1_M);
  EXPECT_EQ(FindRecipe("iq3_xs"), Recipe::kIQ3_XS);
  EXPECT_EQ(FindRecipe("27"), Recipe::kIQ3_M);
  EXPECT_EQ(RecipeInfoFor(Recipe::kIQ3_M).default_type, GgmlType::kIQ3_S);
  EXPECT_EQ(RecipeInfoFor(Recipe::kIQ3_XXS).default_type, GgmlType::kIQ3_XXS);
  for (const auto& info : AllRecipes()) EXPECT_EQ(FindRecipe(info.name), info.recipe);
  EXPECT_EQ(RecipeInfoFor(Recipe::kQ3_K_L).default_type, GgmlType::kQ3_K);
  EXPECT_EQ(FileTypeValue(Recipe::kQ6_K), 18u);
  for (const auto& info : AllRecipes()) {
    // The file-type table knows every recipe under the same name (its short name).
    auto file_type = FindLlamaFileType(FileTypeValue(info.recipe));
    ASSERT_TRUE(file_type.has_value()) << info.name;
    EXPECT_EQ(file_type->short_name, info.name);
  }
}

TEST(TensorRules, UseMoreBitsPattern) {
  // 32 layers: first 4, last 4, and every third in between starting at layer 6.
  std::vector<int> chosen;
  for (int i = 0; i < 32; ++i) {
    if (UseMoreBits(i, 32)) chosen.push_back(i);
  }
  EXPECT_EQ(chosen, (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
  EXPECT_TRUE(UseMoreBits(0, 1));
}

TEST(TensorRules, FallbacksFollowRowLength) {
  EXPECT_EQ(RowLengthFallback(GgmlType::kQ4_K, 288), GgmlType::kQ5_0);
  EXPECT_EQ(RowLengthFallback(GgmlType::kQ5_K, 288), GgmlType::kQ5_1);
  EXPECT_EQ(RowLengthFallback(GgmlType::kQ6_K, 288), GgmlType::kQ8_0);
  EXPECT_EQ(RowLengthFallback(GgmlType::kQ3_K, 288), GgmlType::kIQ4_NL);
  EXPECT_EQ(RowLengthFallback(GgmlType::kQ4_K, 272), GgmlType::kF16);
  EXPECT_EQ(RowLengthFallback(GgmlType::kQ8_0, 272), std::nullopt);
}

// IQ4_XS's rules in llama_tensor_get_type (c392e509): attn_v gets Q5_K under GQA >= 4, the first
// eighth of ffn_down Q5_K unless an imatrix is given, attn_output Q5_K with 8 experts, output Q6_K.
TEST(TensorRules, Iq4Xs) {
  ModelFacts gqa4;
  gqa4.arch = "llama";
  gqa4.n_layer = 16;
  gqa4.n_head = 32;
  gqa4.n_head_kv = 8;
  ModelFacts mha = gqa4;
  mha.n_head_kv = 32;
  ModelFacts moe = gqa4;
  moe.n_expert = 8;
  RuleInput in{.recipe = Recipe::kIQ4_XS,
               .default_type = GgmlType::kIQ4_XS,
               .model = &gqa4,
               .row_length = 4096,
               .i_layer = 0,
               .n_layer = 16};
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ5_K);
  EXPECT_EQ(MixtureType(TensorRole::kOutput, in), GgmlType::kQ6_K);
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kQ5_K);  // layer 0 of 16, no imatrix
  EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kIQ4_XS);
  EXPECT_EQ(MixtureType(TensorRole::kAttnQ, in), GgmlType::kIQ4_XS);
  in.i_layer = 2;
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kIQ4_XS);
  in.i_layer = 1;
  in.has_imatrix = true;
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kIQ4_XS);
  in.model = &mha;
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kIQ4_XS);
  in.model = &moe;
  EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kQ5_K);
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ8_0);
  EXPECT_EQ(RowLengthFallback(GgmlType::kIQ4_XS, 288), GgmlType::kIQ4_NL);
}

// IQ1_S's and IQ1_M's rules in llama_tensor_get_type (c392e509), the very-low-bit branch: output Q5_K,
// token_embd Q2_K, attn_v Q4_K under GQA >= 4 (or 4+ experts) else Q2_K, the first eighth of the
// ffn_down tensors by count Q2_K, attn_output IQ2_XXS (Q5_K with 8 experts), attn_k Q4_K with 8 experts;
// none of the other recipes' bumps (8 experts: attn_v stays Q4_K, not Q8_0).
TEST(TensorRules, Iq1) {
  ModelFacts mha;
  mha.arch = "llama";
  mha.n_layer = 16;
  mha.n_head = 32;
  mha.n_head_kv = 32;
  ModelFacts gqa4 = mha;
  gqa4.n_head_kv = 8;
  ModelFacts moe = gqa4;
  moe.n_expert = 8;
  for (Recipe recipe : {Recipe::kIQ1_S, Recipe::kIQ1_M}) {
    const GgmlType def = RecipeInfoFor(recipe).default_type;
    RuleInput in{.recipe = recipe, .default_type = def, .model = &mha, .row_length = 4096, .n_layer = 16};
    EXPECT_EQ(MixtureType(TensorRole::kOutput, in), GgmlType::kQ5_K);
    EXPECT_EQ(MixtureType(TensorRole::kTokenEmbedding, in), GgmlType::kQ2_K);
    EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ2_K);
    EXPECT_EQ(MixtureType(TensorRole::kAttnK, in), def);
    EXPECT_EQ(MixtureType(TensorRole::kAttnQ, in), def);
    EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kIQ2_XXS);
    EXPECT_EQ(MixtureType(TensorRole::kAttnQkv, in), def);
    EXPECT_EQ(MixtureType(TensorRole::kFfnGate, in), def);
    EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kQ2_K);  // counted 0 < 16 / 8
    in.i_layer = 1;  // for these recipes plan.cc counts ffn_down tensors, also in MoE models
    EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kQ2_K);
    in.i_layer = 2;
    EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), def);
    in.model = &gqa4;
    EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ4_K);
    in.model = &moe;
    EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ4_K);
    EXPECT_EQ(MixtureType(TensorRole::kAttnK, in), GgmlType::kQ4_K);
    EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kQ5_K);
    in.row_length = 288;
    EXPECT_EQ(MixtureType(TensorRole::kOutput, in), GgmlType::kQ8_0);
    EXPECT_EQ(RowLengthFallback(def, 288), GgmlType::kIQ4_NL);
  }
}

// The 3-bit i-quant recipes' rules in llama_tensor_get_type (c392e509).
TEST(TensorRules, Iq3) {
  ModelFacts gqa4;
  gqa4.arch = "llama";
  gqa4.n_layer = 16;
  gqa4.n_head = 32;
  gqa4.n_head_kv = 8;
  ModelFacts mha = gqa4;
  mha.n_head_kv = 32;
  RuleInput in{.recipe = Recipe::kIQ3_XXS,
               .default_type = GgmlType::kIQ3_XXS,
               .model = &mha,
               .row_length = 4096,
               .i_layer = 0,
               .n_layer = 16};
  // IQ3_XXS: output Q5_K, token_embd and attn_output IQ3_S, attn_q/attn_k IQ2_S; attn_v IQ3_S without
  // an imatrix, IQ3_XXS with one, Q4_K under GQA >= 4; without an imatrix ffn_down Q4_K in the first
  // eighth, Q3_K elsewhere.
  EXPECT_EQ(MixtureType(TensorRole::kOutput, in), GgmlType::kQ5_K);
  EXPECT_EQ(MixtureType(TensorRole::kTokenEmbedding, in), GgmlType::kIQ3_S);
  EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kIQ3_S);
  EXPECT_EQ(MixtureType(TensorRole::kAttnQ, in), GgmlType::kIQ2_S);
  EXPECT_EQ(MixtureType(TensorRole::kAttnK, in), GgmlType::kIQ2_S);
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kIQ3_S);
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kQ4_K);
  in.i_layer = 2;
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kQ3_K);
  in.has_imatrix = true;
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kIQ3_XXS);
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kIQ3_XXS);
  in.model = &gqa4;
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ4_K);

  // IQ3_XS (default IQ3_S): attn_q/attn_k IQ3_XXS, ffn_gate/ffn_up IQ3_XXS for n/8 <= i < 7n/8.
  in = {.recipe = Recipe::kIQ3_XS, .default_type = GgmlType::kIQ3_S, .model = &mha, .row_length = 4096};
  in.n_layer = 16;
  EXPECT_EQ(MixtureType(TensorRole::kOutput, in), GgmlType::kQ6_K);
  EXPECT_EQ(MixtureType(TensorRole::kTokenEmbedding, in), GgmlType::kIQ3_S);
  EXPECT_EQ(MixtureType(TensorRole::kAttnQ, in), GgmlType::kIQ3_XXS);
  EXPECT_EQ(MixtureType(TensorRole::kAttnK, in), GgmlType::kIQ3_XXS);
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kIQ3_S);
  for (int i : {0, 1, 14, 15}) {
    in.i_layer = i;
    EXPECT_EQ(MixtureType(TensorRole::kFfnGate, in), GgmlType::kIQ3_S) << i;
  }
  for (int i : {2, 13}) {
    in.i_layer = i;
    EXPECT_EQ(MixtureType(TensorRole::kFfnUp, in), GgmlType::kIQ3_XXS) << i;
  }

  // IQ3_M: attn_v, attn_output and attn_qkv Q4_K, ffn_down Q4_K in the first eighth.
  in = {.recipe = Recipe::kIQ3_M, .default_type = GgmlType::kIQ3_S, .model = &mha, .row_length = 4096};
  in.n_layer = 16;
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ4_K);
  EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kQ4_K);
  EXPECT_EQ(MixtureType(TensorRole::kAttnQkv, in), GgmlType::kQ4_K);
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kQ4_K);
  in.i_layer = 2;
  EXPECT_EQ(MixtureType(TensorRole::kFfnDown, in), GgmlType::kIQ3_S);
  EXPECT_EQ(MixtureType(TensorRole::kAttnQ, in), GgmlType::kIQ3_S);

  // IQ3_S: only attn_v under GQA >= 4.
  in = {.recipe = Recipe::kIQ3_S, .default_type = GgmlType::kIQ3_S, .model = &gqa4, .row_length = 4096};
  EXPECT_EQ(MixtureType(TensorRole::kAttnV, in), GgmlType::kQ4_K);
  EXPECT_EQ(MixtureType(TensorRole::kAttnOutput, in), GgmlType::kIQ3_S);
  EXPECT_EQ(RowLengthFallback(GgmlType::kIQ3_S, 288), GgmlType::kIQ4_NL);
  EXPECT_EQ(RowLengthFallback(GgmlType::kIQ3_XXS, 288), GgmlType::kIQ4_NL);
}

TEST(TensorRules, Roles) {
  EXPECT_EQ(ClassifyTensor("output.weight", true), TensorRole::kOutput);
  EXPECT_EQ(ClassifyTensor("token_embd.weight", true), TensorRole::kTokenEmbedding);
  EXPECT_EQ(ClassifyTensor("token_embd.weight", false), TensorRole::kOutput);
  EXPECT_EQ(ClassifyTensor("blk.3.attn_v.weight", true), TensorRole::kAttnV);
  EXPECT_EQ(ClassifyTensor("blk.3.ffn_down_exps.weight", true), TensorRole::kFfnDown);
  EXPECT_EQ(ClassifyTensor("blk.3.ffn_gate_inp.weight", true), TensorRole::kFfnGate);
  EXPECT_EQ(ClassifyTensor("blk.3.attn_norm.weight", true), TensorRole::kOther);
}

TEST(Plan, NormsAndVectorsAreCopied) {
  GgufTensorInfo norm{.name = "blk.0.attn_norm.weight", .shape = {256}, .type = GgmlType::kF32};
  GgufTensorInfo column{.name = "blk.0.attn_q.weight", .shape = {256, 1}, .type = GgmlType::kF16};
  GgufTensorInfo bias{.name = "blk.0.attn_q.bias", .shape = {256, 4}, .type = GgmlType::kF32};
  GgufTensorInfo router{.name = "blk.0.ffn_gate_inp.weight", .shape = {256, 8}, .type = GgmlType::kF32};
  GgufTensorInfo weight{.name = "blk.0.attn_q.weight", .shape = {256, 4}, .type = GgmlType::kF16};
  QuantizeOptions options;
  EXPECT_FALSE(IsQuantizableWeight(norm, options));
  EXPECT_FALSE(IsQuantizableWeight(column, options));
  EXPECT_FALSE(IsQuantizableWeight(bias, options));
  EXPECT_FALSE(IsQuantizableWeight(router, options));
  EXPECT_TRUE(IsQuantizableWeight(weight, options));
  GgufTensorInfo output{.name = "output.weight", .shape = {256, 4}, .type = GgmlType::kF16};
  EXPECT_TRUE(IsQuantizableWeight(output, options));
  options.quantize_output_tensor = false;
  EXPECT_FALSE(IsQuantizableWeight(output, options));
}

TEST(Plan, RequantizationNeedsPermission) {
  GgufMetadata metadata;
  metadata.Set("general.architecture", GgufValue::Str("llama"));
  metadata.Set("llama.block_count", GgufValue::U32(1));
  metadata.Set("llama.attention.head_count", GgufValue::U32(4));
  auto facts = ReadModelFacts(metadata);
  ASSERT_TRUE(facts.ok());
  std::vector<GgufTensorInfo> tensors = {
      {.name = "blk.0.attn_v.weight", .shape = {256, 256}, .type = GgmlType::kQ8_0},
  };
  QuantizeOptions options;
  auto refused = PlanQuantization(*facts, tensors, Recipe::kQ4_K_S, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("blk.0.attn_v.weight"), std::string::npos);
  EXPECT_NE(refused.error().message.find("--allow-requantize"), std::string::npos);
  options.allow_requantize = true;
  auto allowed = PlanQuantization(*facts, tensors, Recipe::kQ4_K_S, options);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->tensors[0].type, GgmlType::kQ5_K);
  EXPECT_EQ(allowed->warnings.size(), 1u);
  // Already the target type: copied, nothing to allow.
  auto same = PlanQuantization(*facts, tensors, Recipe::kQ8_0, QuantizeOptions{});
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->tensors[0].convert);
}

TEST(ModelFacts, MissingKeysAreNamed) {
  GgufMetadata metadata;
  auto no_arch = ReadModelFacts(metadata);
  ASSERT_FALSE(no_arch.ok());
  EXPECT_NE(no_arch.error().message.find("general.architecture"), std::string::npos);
  metadata.Set("general.architecture", GgufValue::Str("llama"));
  auto no_layers = ReadModelFacts(metadata);
  ASSERT_FALSE(no_layers.ok());
  EXPECT_NE(no_layers.error().message.find("llama.block_count"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
