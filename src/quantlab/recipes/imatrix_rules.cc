#include "quantlab/recipes/imatrix_rules.h"

#include <algorithm>
#include <cctype>

namespace quantlab {

bool RecipeTakesImatrix(Recipe recipe) {
  const GgmlType type = RecipeInfoFor(recipe).default_type;
  return TypeInfo(type).quantized && type != GgmlType::kQ8_0;
}

bool RecipeNeedsImatrix(std::string_view name) {
  static constexpr std::string_view kNeedOne[] = {"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "Q2_K_S"};
  return std::any_of(std::begin(kNeedOne), std::end(kNeedOne), [&](std::string_view n) {
    return std::equal(n.begin(), n.end(), name.begin(), name.end(),
                      [](char a, char b) { return a == std::toupper(static_cast<unsigned char>(b)); });
  });
}

}  // namespace quantlab
