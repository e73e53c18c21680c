// The quantization recipes ("file types") llama-quantize offers, by their llama.cpp names. A recipe is a
// default block type plus, for the K-quant and i-quant mixtures, rules that give some tensors more bits
// (tensor_rules.h). The enum values are llama.cpp's `llama_ftype` numbers, which a quantized file
// stores in `general.file_type`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "quantlab/gguf/file_type.h"
#include "quantlab/gguf/types.h"

namespace quantlab {

enum class Recipe : uint32_t {
  kF32 = 0,  // LLAMA_FTYPE_ALL_F32
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kIQ2_XXS = 19,
  kIQ2_XS = 20,
  kIQ3_XS = 22,
  kIQ3_XXS = 23,
  kIQ1_S = 24,
  kIQ3_S = 26,
  kIQ3_M = 27,
  kIQ2_S = 28,
  kIQ2_M = 29,
  kIQ4_XS = 30,
  kIQ1_M = 31,
  kBF16 = 32,
};

struct RecipeInfo {
  Recipe recipe;
  std::string_view name;         // llama.cpp's name, e.g. "Q4_K_M"
  GgmlType default_type;         // the type every quantized tensor gets unless a rule says otherwise
  std::string_view description;  // one line for `--help` and reports
};

// All recipes, in llama-quantize's listing order.
std::span<const RecipeInfo> AllRecipes();
const RecipeInfo& RecipeInfoFor(Recipe recipe);

// Looks a recipe up by name, case-insensitively, accepting llama-quantize's aliases (Q3_K = Q3_K_M,
// Q4_K = Q4_K_M, Q5_K = Q5_K_M) and the llama_ftype number ("15").
std::optional<Recipe> FindRecipe(std::string_view name);

inline uint32_t FileTypeValue(Recipe recipe) { return static_cast<uint32_t>(recipe); }
inline std::string_view RecipeName(Recipe recipe) { return RecipeInfoFor(recipe).name; }

// llama.cpp's GGML_QNT_VERSION, written as `general.quantization_version`.
inline constexpr uint32_t kQuantizationVersion = 2;

}  // namespace quantlab
