#include "quantlab/recipes/recipe.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <string>

#include "quantlab/util/check.h"

namespace quantlab {
namespace {

// Recipe values are llama_ftype values, as the file-type table has them.
static_assert(static_cast<uint32_t>(Recipe::kF32) == static_cast<uint32_t>(LlamaFileType::kAllF32));
static_assert(static_cast<uint32_t>(Recipe::kF16) == static_cast<uint32_t>(LlamaFileType::kMostlyF16));
static_assert(static_cast<uint32_t>(Recipe::kBF16) == static_cast<uint32_t>(LlamaFileType::kMostlyBF16));
static_assert(static_cast<uint32_t>(Recipe::kQ4_0) == static_cast<uint32_t>(LlamaFileType::kMostlyQ4_0));
static_assert(static_cast<uint32_t>(Recipe::kQ4_1) == static_cast<uint32_t>(LlamaFileType::kMostlyQ4_1));
static_assert(static_cast<uint32_t>(Recipe::kQ5_0) == static_cast<uint32_t>(LlamaFileType::kMostlyQ5_0));
static_assert(static_cast<uint32_t>(Recipe::kQ5_1) == static_cast<uint32_t>(LlamaFileType::kMostlyQ5_1));
static_assert(static_cast<uint32_t>(Recipe::kQ8_0) == static_cast<uint32_t>(LlamaFileType::kMostlyQ8_0));
static_assert(static_cast<uint32_t>(Recipe::kQ2_K) == static_cast<uint32_t>(LlamaFileType::kMostlyQ2_K));
static_assert(static_cast<uint32_t>(Recipe::kQ3_K_S) == static_cast<uint32_t>(LlamaFileType::kMostlyQ3_K_S));
static_assert(static_cast<uint32_t>(Recipe::kQ3_K_M) == static_cast<uint32_t>(LlamaFileType::kMostlyQ3_K_M));
static_assert(static_cast<uint32_t>(Recipe::kQ3_K_L) == static_cast<uint32_t>(LlamaFileType::kMostlyQ3_K_L));
static_assert(static_cast<uint32_t>(Recipe::kQ4_K_S) == static_cast<uint32_t>(LlamaFileType::kMostlyQ4_K_S));
static_assert(static_cast<uint32_t>(Recipe::kQ4_K_M) == static_cast<uint32_t>(LlamaFileType::kMostlyQ4_K_M));
static_assert(static_cast<uint32_t>(Recipe::kQ5_K_S) == static_cast<uint32_t>(LlamaFileType::kMostlyQ5_K_S));
static_assert(static_cast<uint32_t>(Recipe::kQ5_K_M) == static_cast<uint32_t>(LlamaFileType::kMostlyQ5_K_M));
static_assert(static_cast<uint32_t>(Recipe::kQ6_K) == static_cast<uint32_t>(LlamaFileType::kMostlyQ6_K));
static_assert(static_cast<uint32_t>(Recipe::kIQ2_XXS) ==
              static_cast<uint32_t>(LlamaFileType::kMostlyIQ2_XXS));
static_assert(static_cast<uint32_t>(Recipe::kIQ2_XS) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ2_XS));
static_assert(static_cast<uint32_t>(Recipe::kIQ2_S) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ2_S));
static_assert(static_cast<uint32_t>(Recipe::kIQ2_M) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ2_M));
static_assert(static_cast<uint32_t>(Recipe::kIQ3_XS) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ3_XS));
static_assert(static_cast<uint32_t>(Recipe::kIQ3_XXS) ==
              static_cast<uint32_t>(LlamaFileType::kMostlyIQ3_XXS));
static_assert(static_cast<uint32_t>(Recipe::kIQ3_S) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ3_S));
static_assert(static_cast<uint32_t>(Recipe::kIQ3_M) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ3_M));
static_assert(static_cast<uint32_t>(Recipe::kIQ4_XS) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ4_XS));
static_assert(static_cast<uint32_t>(Recipe::kIQ1_S) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ1_S));
static_assert(static_cast<uint32_t>(Recipe::kIQ1_M) == static_cast<uint32_t>(LlamaFileType::kMostlyIQ1_M));

constexpr std::array kRecipes = {
    RecipeInfo{Recipe::kQ4_0, "Q4_0", GgmlType::kQ4_0, "4-bit blocks of 32, one scale"},
    RecipeInfo{Recipe::kQ4_1, "Q4_1", GgmlType::kQ4_1, "4-bit blocks of 32, scale and minimum"},
    RecipeInfo{Recipe::kQ5_0, "Q5_0", GgmlType::kQ5_0, "5-bit blocks of 32, one scale"},
    RecipeInfo{Recipe::kQ5_1, "Q5_1", GgmlType::kQ5_1, "5-bit blocks of 32, scale and minimum"},
    RecipeInfo{Recipe::kIQ2_XXS, "IQ2_XXS", GgmlType::kIQ2_XXS,
               "2.06-bit lattice i-quant mixture (needs an imatrix)"},
    RecipeInfo{Recipe::kIQ2_XS, "IQ2_XS", GgmlType::kIQ2_XS,
               "2.31-bit lattice i-quant mixture (needs an imatrix)"},
    RecipeInfo{Recipe::kIQ2_S, "IQ2_S", GgmlType::kIQ2_XS,
               "2.5-bit lattice i-quant mixture, IQ2_XS with IQ3_S (needs an imatrix)"},
    RecipeInfo{Recipe::kIQ2_M, "IQ2_M", GgmlType::kIQ2_S,
               "2.7-bit lattice i-quant mixture (needs an imatrix)"},
    RecipeInfo{Recipe::kIQ1_S, "IQ1_S", GgmlType::kIQ1_S,
               "1.56-bit lattice i-quant mixture (needs an imatrix)"},
    RecipeInfo{Recipe::kIQ1_M, "IQ1_M", GgmlType::kIQ1_M,
               "1.75-bit lattice i-quant mixture (needs an imatrix)"},
    RecipeInfo{Recipe::kQ2_K, "Q2_K", GgmlType::kQ2_K, "2-bit K-quant mixture"},
    RecipeInfo{Recipe::kIQ3_XXS, "IQ3_XXS", GgmlType::kIQ3_XXS,
               "3.06-bit lattice i-quant mixture (IQ2_S attn_q/k)"},
    RecipeInfo{Recipe::kIQ3_S, "IQ3_S", GgmlType::kIQ3_S, "3.44-bit lattice i-quant"},
    RecipeInfo{Recipe::kIQ3_M, "IQ3_M", GgmlType::kIQ3_S, "3.66-bit lattice i-quant mixture"},
    RecipeInfo{Recipe::kIQ3_XS, "IQ3_XS", GgmlType::kIQ3_S, "3.3-bit lattice i-quant mixture"},
    RecipeInfo{Recipe::kQ3_K_S, "Q3_K_S", GgmlType::kQ3_K, "3-bit K-quants, small"},
    RecipeInfo{Recipe::kQ3_K_M, "Q3_K_M", GgmlType::kQ3_K, "3-bit K-quant mixture, medium"},
    RecipeInfo{Recipe::kQ3_K_L, "Q3_K_L", GgmlType::kQ3_K, "3-bit K-quant mixture, large"},
    RecipeInfo{Recipe::kIQ4_XS, "IQ4_XS", GgmlType::kIQ4_XS, "4.25-bit non-linear i-quant"},
    RecipeInfo{Recipe::kQ4_K_S, "Q4_K_S", GgmlType::kQ4_K, "4-bit K-quant mixture, small"},
    RecipeInfo{Recipe::kQ4_K_M, "Q4_K_M", GgmlType::kQ4_K, "4-bit K-quant mixture, medium"},
    RecipeInfo{Recipe::kQ5_K_S, "Q5_K_S", GgmlType::kQ5_K, "5-bit K-quants, small"},
    RecipeInfo{Recipe::kQ5_K_M, "Q5_K_M", GgmlType::kQ5_K, "5-bit K-quant mixture, medium"},
    RecipeInfo{Recipe::kQ6_K, "Q6_K", GgmlType::kQ6_K, "6-bit K-quants"},
    RecipeInfo{Recipe::kQ8_0, "Q8_0", GgmlType::kQ8_0, "8-bit blocks of 32"},
    RecipeInfo{Recipe::kF16, "F16", GgmlType::kF16, "IEEE half precision"},
    RecipeInfo{Recipe::kBF16, "BF16", GgmlType::kBF16, "bfloat16"},
    RecipeInfo{Recipe::kF32, "F32", GgmlType::kF32, "single precision"},
};

struct Alias {
  std::string_view name;
  Recipe recipe;
};
constexpr std::array kAliases = {
    Alias{"Q3_K", Recipe::kQ3_K_M},
    Alias{"Q4_K", Recipe::kQ4_K_M},
    Alias{"Q5_K", Recipe::kQ5_K_M},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::span<const RecipeInfo> AllRecipes() { return kRecipes; }

const RecipeInfo& RecipeInfoFor(Recipe recipe) {
  for (const auto& info : kRecipes) {
    if (info.recipe == recipe) return info;
  }
  QL_CHECK_MSG(false, "Recipe value outside the recipe table");
}

std::optional<Recipe> FindRecipe(std::string_view name) {
  for (const auto& info : kRecipes) {
    if (EqualsIgnoreCase(info.name, name)) return info.recipe;
  }
  for (const auto& alias : kAliases) {
    if (EqualsIgnoreCase(alias.name, name)) return alias.recipe;
  }
  uint32_t number = 0;
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(name.data(), end, number);
  if (!name.empty() && ec == std::errc() && ptr == end) {
    for (const auto& info : kRecipes) {
      if (FileTypeValue(info.recipe) == number) return info.recipe;
    }
  }
  return std::nullopt;
}

}  // namespace quantlab
