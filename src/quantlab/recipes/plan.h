// Decides, for every tensor of a model, the type it gets under a recipe, as llama-quantize does
// (llama_model_quantize_impl + llama_tensor_get_type): the order tensors are written in, which tensors
// are quantized at all, the mixture rules with their per-role counters, the row-length fallbacks, the
// `--pure` / `--output-tensor-type` / `--token-embedding-type` options and the requantization check.
// No tensor data is touched: the plan is computed from names, shapes and types alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/types.h"
#include "quantlab/recipes/model_facts.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/recipes/tensor_rules.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct QuantizeOptions {
  bool pure = false;                             // every quantized tensor gets the default type
  std::optional<GgmlType> output_tensor_type;    // forced type for output.weight
  std::optional<GgmlType> token_embedding_type;  // forced type for token_embd.weight
  bool allow_requantize = false;                 // accept already-quantized sources (with a warning)
  bool has_imatrix = false;                      // an importance matrix is given (one rule depends on it)
  bool quantize_output_tensor = true;            // false: output.weight is copied (--leave-output-tensor)
};

struct TensorDecision {
  size_t source_index = 0;  // index into the source file's tensor list
  std::string name;
  std::vector<int64_t> shape;
  GgmlType source_type = GgmlType::kF32;
  GgmlType type = GgmlType::kF32;  // the type written
  TensorRole role = TensorRole::kOther;
  bool quantizable = false;  // a weight the recipe applies to (2-D or more, not a norm, ...)
  bool convert = false;      // type != source_type: the data is re-encoded, else copied as is
  bool fallback = false;     // the rules' choice did not fit the row length; `type` is the fallback
  GgmlType preferred_type = GgmlType::kF32;  // the rules' choice before any fallback
};

struct QuantizationPlan {
  Recipe recipe = Recipe::kF16;
  // In output order, which is llama.cpp's: tensors outside the blocks first, then block by block, each
  // group sorted by name.
  std::vector<TensorDecision> tensors;
  int n_fallback = 0;     // tensors that needed a row-length fallback
  int n_k_quantized = 0;  // tensors the mixture rules typed without fallback
  std::vector<std::string> warnings;
};

// The tensor indices in llama.cpp's processing order (its weights map: layer number parsed from
// "blk.N.", -1 for the rest, then name).
std::vector<size_t> LlamaTensorOrder(std::span<const GgufTensorInfo> tensors);

// Whether llama-quantize would quantize this tensor at all: names ending in "weight", at least two
// dimensions that are not 1, and not one of the small or special tensors kept as they are (norms,
// expert gating, positional embeddings, ...).
bool IsQuantizableWeight(const GgufTensorInfo& tensor, const QuantizeOptions& options);

Result<QuantizationPlan> PlanQuantization(const ModelFacts& model, std::span<const GgufTensorInfo> tensors,
                                          Recipe recipe, const QuantizeOptions& options);

}  // namespace quantlab
