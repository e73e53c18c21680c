// Which recipes an importance matrix changes, and which llama-quantize refuses to make without one.
#pragma once

#include <string_view>

#include "quantlab/recipes/recipe.h"

namespace quantlab {

// True when an imatrix can change the recipe's file: its default type is quantized with importance
// weights (every quantized type but Q8_0, whose ggml quantizer ignores them). F32/F16/BF16 and Q8_0 are
// the same with or without one.
bool RecipeTakesImatrix(Recipe recipe);

// llama-quantize (c392e509, examples/quantize/quantize.cpp) stops before any work when one of these is
// asked for without an imatrix: IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S and Q2_K_S ("Please do not use ...
// without an importance matrix"). By llama.cpp name, case-insensitive, whether or not quantlab has the
// recipe yet.
bool RecipeNeedsImatrix(std::string_view name);

}  // namespace quantlab
