#include "quantlab/recipes/plan.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace quantlab {
namespace {

// Tensors llama-quantize never quantizes even though they are 2-D weights.
constexpr std::array<std::string_view, 10> kKeptFragments = {
    "_norm.weight",                // normalisation weights
    "ffn_gate_inp.weight",         // mixture-of-experts router
    "ssm_conv1d.weight",           // Mamba's small convolution
    "time_mix_first.weight",       // RWKV
    "time_mix_w1.weight",          //
    "time_mix_w2.weight",          //
    "time_mix_decay_w1.weight",    //
    "time_mix_decay_w2.weight",    //
    "time_mix_lerp_fused.weight",  //
    "attn_rel_b.weight",           // T5 relative position bias
};
constexpr std::array<std::string_view, 2> kKeptNames = {
    "position_embd.weight",  // learned positions (BERT, GPT-2)
    "token_types.weight",    // BERT token types
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ggml_n_dims: dimensions up to the last one that is not 1.
int CountDims(const std::vector<int64_t>& shape) {
  int n = 1;
  for (size_t i = 1; i < shape.size(); ++i) {
    if (shape[i] != 1) n = static_cast<int>(i) + 1;
  }
  return n;
}

// The layer number of "blk.N.<...>", or nullopt.
std::optional<int> LayerOf(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  size_t pos = kPrefix.size();
  bool negative = false;
  if (pos < name.size() && (name[pos] == '-' || name[pos] == '+')) negative = name[pos++] == '-';
  if (pos >= name.size() || !std::isdigit(static_cast<unsigned char>(name[pos]))) return std::nullopt;
  int64_t value = 0;
  while (pos < name.size() && std::isdigit(static_cast<unsigned char>(name[pos])) && value < (1 << 30)) {
    value = value * 10 + (name[pos++] - '0');
  }
  return static_cast<int>(negative ? -value : value);
}

bool IsFloatType(GgmlType type) {
  return type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16;
}

// llama-quantize's walk state: how many tensors of each counted role it has typed so far.
class MixtureWalk {
 public:
  MixtureWalk(const ModelFacts& model, std::span<const GgufTensorInfo> tensors, Recipe recipe,
              const QuantizeOptions& options)
      : model_(model), recipe_(recipe), options_(options) {
    for (const auto& tensor : tensors) {
      const std::string_view name = tensor.name;
      if (name.find("attn_v.weight") != std::string_view::npos ||
          name.find("attn_qkv.weight") != std::string_view::npos ||
          name.find("attn_kv_b.weight") != std::string_view::npos) {
        ++n_attention_wv_;
      } else if (name == "output.weight") {
        has_output_ = true;
      }
    }
  }

  bool has_output() const { return has_output_; }
  int n_attention_wv() const { return n_attention_wv_; }

  // The mixture's type for one tensor, as llama_tensor_get_type; advances the role's counter.
  Status Choose(const GgufTensorInfo& tensor, TensorDecision& decision) {
    const GgmlType default_type = RecipeInfoFor(recipe_).default_type;
    decision.role = ClassifyTensor(tensor.name, has_output_);
    RuleInput input{.recipe = recipe_,
                    .default_type = default_type,
                    .model = &model_,
                    .has_imatrix = options_.has_imatrix,
                    .row_length = tensor.row_length()};
    QL_RETURN_IF_ERROR(Position(decision.role, tensor.name, input));

    GgmlType type = MixtureType(decision.role, input);
    if (decision.role == TensorRole::kOutput && options_.output_tensor_type)
      type = *options_.output_tensor_type;
    if (decision.role == TensorRole::kTokenEmbedding && options_.token_embedding_type) {
      type = *options_.token_embedding_type;
    }
    decision.preferred_type = type;
    if (tensor.row_length() % TypeInfo(type).block_size == 0) {
      ++n_k_quantized_;
    } else {
      auto fallback = RowLengthFallback(type, tensor.row_length());
      if (!fallback) {
        return MakeError(
            "tensor {}: rows of {} values are not a multiple of the {}-value blocks of {}, and "
            "llama.cpp has no fallback type for {}",
            tensor.name, tensor.row_length(), TypeInfo(type).block_size, TypeName(type), TypeName(type));
      }
      type = *fallback;
      decision.fallback = true;
      ++n_fallback_;
    }
    decision.type = type;
    return Ok();
  }

  int n_fallback() const { return n_fallback_; }
  int n_k_quantized() const { return n_k_quantized_; }

 private:
  // Fills input.i_layer / n_layer for the counted roles and advances their counters.
  Status Position(TensorRole role, const std::string& name, RuleInput& input) {
    switch (role) {
      case TensorRole::kAttnV:
        input.i_layer = i_attention_wv_++;
        input.n_layer = n_attention_wv_;
        return Ok();
      case TensorRole::kFfnDown:
        return FfnPosition(i_ffn_down_, name, input);
      case TensorRole::kFfnGate:
        return FfnPosition(i_ffn_gate_, name, input);
      case TensorRole::kFfnUp:
        return FfnPosition(i_ffn_up_, name, input);
      default:
        return Ok();
    }
  }

  // llama.cpp counts FFN tensors to know their layer, except in mixture-of-experts models, whose expert
  // tensors are not stored layer by layer: there it reads the layer from the name.
  Status FfnPosition(int& counter, const std::string& name, RuleInput& input) {
    input.n_layer = model_.n_layer;
    input.i_counted = counter;
    input.i_layer = counter++;
    if (std::max(1, model_.n_expert) > 1) {
      auto layer = LayerOf(name);
      if (!layer) return MakeError("tensor {}: cannot tell its layer (expected a name \"blk.N....\")", name);
      if (*layer < 0 || *layer >= model_.n_layer) {
        return MakeError("tensor {}: layer {} is outside [0, {})", name, *layer, model_.n_layer);
      }
      input.i_layer = *layer;
    }
    return Ok();
  }

  const ModelFacts& model_;
  Recipe recipe_;
  const QuantizeOptions& options_;
  bool has_output_ = false;
  int n_attention_wv_ = 0;
  int i_attention_wv_ = 0;
  int i_ffn_down_ = 0;
  int i_ffn_gate_ = 0;
  int i_ffn_up_ = 0;
  int n_fallback_ = 0;
  int n_k_quantized_ = 0;
};

}  // namespace

std::vector<size_t> LlamaTensorOrder(std::span<const GgufTensorInfo> tensors) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<int> layer(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) layer[i] = LayerOf(tensors[i].name).value_or(-1);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (layer[a] != layer[b]) return layer[a] < layer[b];
    return tensors[a].name < tensors[b].name;
  });
  return order;
}

bool IsQuantizableWeight(const GgufTensorInfo& tensor, const QuantizeOptions& options) {
  const std::string_view name = tensor.name;
  if (!EndsWith(name, "weight")) return false;
  if (CountDims(tensor.shape) < 2) return false;
  if (!options.quantize_output_tensor && name == "output.weight") return false;
  for (auto fragment : kKeptFragments) {
    if (name.find(fragment) != std::string_view::npos) return false;
  }
  return std::find(kKeptNames.begin(), kKeptNames.end(), name) == kKeptNames.end();
}

Result<QuantizationPlan> PlanQuantization(const ModelFacts& model, std::span<const GgufTensorInfo> tensors,
                                          Recipe recipe, const QuantizeOptions& options) {
  const GgmlType default_type = RecipeInfoFor(recipe).default_type;
  const bool use_mixture = !options.pure && TypeInfo(default_type).quantized;
  MixtureWalk walk(model, tensors, recipe, options);
  if (walk.n_attention_wv() != 0 && walk.n_attention_wv() != model.n_attn_layers) {
    return MakeError("the model has {} attention value tensors but {} attention layers",
                     walk.n_attention_wv(), model.n_attn_layers);
  }

  QuantizationPlan plan;
  plan.recipe = recipe;
  for (size_t index : LlamaTensorOrder(tensors)) {
    const GgufTensorInfo& tensor = tensors[index];
    TensorDecision decision;
    decision.source_index = index;
    decision.name = tensor.name;
    decision.shape = tensor.shape;
    decision.source_type = tensor.type;
    decision.type = tensor.type;
    decision.preferred_type = tensor.type;
    decision.role = ClassifyTensor(tensor.name, walk.has_output());
    decision.quantizable = IsQuantizableWeight(tensor, options);

    if (decision.quantizable) {
      decision.type = default_type;
      decision.preferred_type = default_type;
      if (use_mixture) QL_RETURN_IF_ERROR(walk.Choose(tensor, decision));
      // The forced types win over everything, --pure included.
      if (options.token_embedding_type && tensor.name == "token_embd.weight") {
        decision.type = *options.token_embedding_type;
      }
      if (options.output_tensor_type && tensor.name == "output.weight")
        decision.type = *options.output_tensor_type;
      if (!decision.fallback) decision.preferred_type = decision.type;
    }
    decision.convert = decision.type != decision.source_type;
    if (!decision.convert) decision.type = decision.source_type;

    if (decision.convert) {
      const GgmlTypeInfo& target = TypeInfo(decision.type);
      if (tensor.row_length() % target.block_size != 0) {
        return MakeError("tensor {}: rows of {} values are not a multiple of the {}-value blocks of {}",
                         tensor.name, tensor.row_length(), target.block_size, target.name);
      }
      const GgmlTypeInfo& source = TypeInfo(tensor.type);
      if (!IsFloatType(tensor.type) && !source.quantized) {
        return MakeError("tensor {}: cannot convert from type {}", tensor.name, source.name);
      }
      if (source.quantized) {
        if (!options.allow_requantize) {
          return MakeError(
              "tensor {} is already quantized ({}); requantizing it to {} is disabled (pass "
              "--allow-requantize to do it anyway)",
              tensor.name, source.name, target.name);
        }
        plan.warnings.push_back(
            fmt::format("tensor {}: requantizing from {} to {} loses more quality than "
                        "quantizing from 16 or 32 bits",
                        tensor.name, source.name, target.name));
      }
    }
    plan.tensors.push_back(std::move(decision));
  }
  plan.n_fallback = walk.n_fallback();
  plan.n_k_quantized = walk.n_k_quantized();
  return plan;
}

}  // namespace quantlab
