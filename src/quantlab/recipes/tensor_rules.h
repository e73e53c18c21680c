// llama.cpp's K-quant mixture rules (llama_tensor_get_type in llama-quant.cpp): which tensors of a
// model get more (or other) bits than the recipe's default type, and which type replaces a choice whose
// block does not fit the tensor's row length. Each rule is a small function per tensor role; the walk
// over a model that feeds them (counters, order, options) is in plan.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "quantlab/gguf/types.h"
#include "quantlab/recipes/model_facts.h"
#include "quantlab/recipes/recipe.h"

namespace quantlab {

// What a tensor is to the rules, decided from its name the way llama.cpp does (first match wins, in
// this order; substring matches, so "ffn_down_exps" is an ffn_down).
enum class TensorRole {
  kOutput,          // output.weight, or token_embd.weight when the model has no output.weight (tied)
  kTokenEmbedding,  // token_embd.weight of a model with its own output.weight
  kAttnV,
  kAttnK,
  kAttnQ,
  kFfnDown,
  kAttnOutput,
  kAttnQkv,  // fused QKV projection
  kFfnGate,
  kFfnUp,
  kOther,
};

TensorRole ClassifyTensor(std::string_view name, bool model_has_output);

// The inputs a rule may look at.
struct RuleInput {
  Recipe recipe;
  GgmlType default_type;  // the recipe's default type (what the tensor gets when no rule applies)
  const ModelFacts* model;
  bool has_imatrix = false;
  int64_t row_length = 0;  // shape[0]
  // Position: for attn_v the count of attn_v tensors seen before this one and their total; for the FFN
  // roles the layer (llama.cpp counts these tensors too, or parses "blk.N." in mixture-of-experts
  // models) and the number of layers.
  int i_layer = 0;
  int n_layer = 0;
};

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer between.
bool UseMoreBits(int i_layer, int n_layer);

// The IQ2 and IQ1 recipes (IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M, IQ1_S, IQ1_M): llama.cpp types their tensors in
// a branch of its own (no 70B or 8-expert attn_v bump),
// which counts ffn_down tensors for their layer instead of reading it from the name (plan.cc).
bool IsIq2Mixture(Recipe recipe);

// The type the recipe's mixture rules pick for a tensor of `role`, before the row-length fallback.
// Only meaningful for quantized default types (the float recipes have no mixture).
GgmlType MixtureType(TensorRole role, const RuleInput& input);

// When `chosen`'s block does not divide the row length, the type llama.cpp uses instead: Q2_K/Q3_K ->
// IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (and the IQ/TQ types to IQ4_NL/Q4_0), then F16 when
// that block does not fit either. nullopt when llama.cpp has no fallback for `chosen` (it gives up
// with "Unsupported tensor size").
std::optional<GgmlType> RowLengthFallback(GgmlType chosen, int64_t row_length);

}  // namespace quantlab
