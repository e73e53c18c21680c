#include "quantlab/recipes/tensor_rules.h"

#include <array>
#include <string>

namespace quantlab {
namespace {

using T = GgmlType;
using R = Recipe;

bool Contains(std::string_view name, std::string_view part) {
  return name.find(part) != std::string_view::npos;
}

// Roles matched by a fragment of the name, in llama.cpp's order of tests.
struct NamedRole {
  std::string_view fragment;
  TensorRole role;
};
constexpr std::array kNamedRoles = {
    NamedRole{"attn_v.weight", TensorRole::kAttnV},
    NamedRole{"attn_k.weight", TensorRole::kAttnK},
    NamedRole{"attn_q.weight", TensorRole::kAttnQ},
    NamedRole{"ffn_down", TensorRole::kFfnDown},
    NamedRole{"attn_output.weight", TensorRole::kAttnOutput},
    NamedRole{"attn_qkv.weight", TensorRole::kAttnQkv},
    NamedRole{"ffn_gate", TensorRole::kFfnGate},
    NamedRole{"ffn_up", TensorRole::kFfnUp},
};

// IQ2_S and IQ2_M: the IQ2 mixtures that spend their extra bits on IQ3_S.
bool Iq2WithIq3S(Recipe recipe) { return recipe == R::kIQ2_S || recipe == R::kIQ2_M; }

// output.weight (and the tied token embedding): Q6_K, unless the default is already Q8_0 (Q5_K for the
// 2- and 3-bit lattice mixtures); Q8_0 when the default's block does not fit the row, and always for
// Falcon.
GgmlType OutputType(const RuleInput& in) {
  if (in.model->is_falcon() || in.row_length % TypeInfo(in.default_type).block_size != 0) return T::kQ8_0;
  if (in.recipe == R::kIQ3_XXS || IsIq2Mixture(in.recipe)) return T::kQ5_K;  // and IQ1_S/IQ1_M
  return in.default_type == T::kQ8_0 ? T::kQ8_0 : T::kQ6_K;
}

// token_embd of a model with its own output.weight: the IQ2 and IQ3_XXS mixtures change it.
GgmlType TokenEmbeddingType(const RuleInput& in) {
  if (in.recipe == R::kIQ2_XXS || in.recipe == R::kIQ2_XS || in.recipe == R::kIQ1_S || in.recipe == R::kIQ1_M)
    return T::kQ2_K;
  if (Iq2WithIq3S(in.recipe) || in.recipe == R::kIQ3_XXS) return T::kIQ3_S;
  return in.default_type;
}

// The IQ2 mixtures (llama.cpp's branch for IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M and IQ1_S/IQ1_M) have rules of
// their own for the roles below output and token_embd; every other tensor keeps the default. `i_layer`
// of ffn_down is llama.cpp's count of ffn_down tensors seen so far (no layer parsed from the name here).
GgmlType Iq2MixtureType(TensorRole role, const RuleInput& in) {
  const ModelFacts& m = *in.model;
  const GgmlType more = Iq2WithIq3S(in.recipe) ? T::kIQ3_S : T::kQ2_K;
  switch (role) {
    case TensorRole::kAttnV:
      return m.n_gqa() >= 4 || m.n_expert >= 4 ? T::kQ4_K : more;
    case TensorRole::kAttnK:
      return m.n_expert == 8 ? T::kQ4_K : in.default_type;
    case TensorRole::kFfnDown:
      return in.i_layer < in.n_layer / 8 ? more : in.default_type;
    case TensorRole::kAttnOutput:
      if (m.n_expert == 8) return T::kQ5_K;
      if (in.recipe == R::kIQ1_S || in.recipe == R::kIQ1_M) return T::kIQ2_XXS;
      return Iq2WithIq3S(in.recipe) ? T::kIQ3_S : in.default_type;
    default:
      return in.default_type;
  }
}

// attn_v is small under grouped-query attention, so the mixtures spend bits on it. `i_layer` counts the
// attn_v tensors before this one.
GgmlType AttnVType(const RuleInput& in) {
  const ModelFacts& m = *in.model;
  GgmlType type = in.default_type;
  switch (in.recipe) {
    case R::kQ2_K:
      type = m.n_gqa() >= 4 ? T::kQ4_K : T::kQ3_K;
      break;
    case R::kQ3_K_M:
      type = in.i_layer < 2 ? T::kQ5_K : T::kQ4_K;
      break;
    case R::kQ3_K_L:
      type = T::kQ5_K;
      break;
    case R::kQ4_K_M:
    case R::kQ5_K_M:
      if (UseMoreBits(in.i_layer, in.n_layer)) type = T::kQ6_K;
      break;
    case R::kQ4_K_S:
      if (in.i_layer < 4) type = T::kQ5_K;
      break;
    case R::kIQ4_XS:
      if (m.n_gqa() >= 4) type = T::kQ5_K;
      break;
    case R::kIQ3_XXS:
      type = m.n_gqa() >= 4 ? T::kQ4_K : !in.has_imatrix ? T::kIQ3_S : T::kIQ3_XXS;
      break;
    case R::kIQ3_XS:
    case R::kIQ3_S:
      if (m.n_gqa() >= 4) type = T::kQ4_K;
      break;
    case R::kIQ3_M:
      type = T::kQ4_K;
      break;
    default:
      break;
  }
  // 70B llama shares each V head among 8 query heads: more bits here cost little.
  if (m.is_70b() && (type == T::kQ3_K || type == T::kQ4_K)) type = T::kQ5_K;
  if (m.n_expert == 8) type = T::kQ8_0;
  return type;
}

GgmlType AttnKType(const RuleInput& in) {
  if (in.model->n_expert == 8) return T::kQ8_0;
  if (in.recipe == R::kIQ3_XS) return T::kIQ3_XXS;
  if (in.recipe == R::kIQ3_XXS) return T::kIQ2_S;
  return in.default_type;
}

GgmlType AttnQType(const RuleInput& in) {
  if (in.recipe == R::kIQ3_XS) return T::kIQ3_XXS;
  if (in.recipe == R::kIQ3_XXS) return T::kIQ2_S;
  return in.default_type;
}

// IQ3_XS's ffn_gate and ffn_up: IQ3_XXS in the middle three quarters of the layers.
GgmlType FfnGateUpType(const RuleInput& in) {
  const bool middle = in.i_layer >= in.n_layer / 8 && in.i_layer < 7 * in.n_layer / 8;
  return in.recipe == R::kIQ3_XS && middle ? T::kIQ3_XXS : in.default_type;
}

GgmlType FfnDownType(const RuleInput& in) {
  const bool falcon = in.model->is_falcon();
  const int i = in.i_layer;
  const int n = in.n_layer;
  const bool more_bits = UseMoreBits(i, n);
  switch (in.recipe) {
    case R::kQ2_K:
      return T::kQ3_K;
    case R::kIQ3_XXS:
      if (in.has_imatrix) return in.default_type;
      return i < n / 8 ? T::kQ4_K : T::kQ3_K;
    case R::kIQ3_M:
      return i < n / 8 || (in.model->n_expert == 8 && more_bits) ? T::kQ4_K : in.default_type;
    case R::kQ3_K_M:
      if (i < n / 16) return T::kQ5_K;
      return !falcon || more_bits ? T::kQ4_K : T::kQ3_K;
    case R::kQ3_K_L:
      return falcon ? T::kQ4_K : T::kQ5_K;
    case R::kQ4_K_M:
      if (falcon) return i < n / 16 ? T::kQ6_K : more_bits ? T::kQ5_K : T::kQ4_K;
      return more_bits ? T::kQ6_K : in.default_type;
    case R::kQ5_K_M:
      return more_bits ? T::kQ6_K : in.default_type;
    case R::kQ4_K_S:
      return !falcon && i < n / 8 ? T::kQ5_K : in.default_type;
    case R::kIQ4_XS:
      return !in.has_imatrix && i < n / 8 ? T::kQ5_K : in.default_type;
    // With an importance matrix the first layers' ffn_down get the variant with a minimum.
    case R::kQ4_0:
      return in.has_imatrix && i < n / 8 ? T::kQ4_1 : in.default_type;
    case R::kQ5_0:
      return in.has_imatrix && i < n / 8 ? T::kQ5_1 : in.default_type;
    default:
      return in.default_type;
  }
}

GgmlType AttnOutputType(const RuleInput& in) {
  if (in.model->is_falcon()) return in.recipe == R::kQ3_K_L ? T::kQ4_K : in.default_type;
  if (in.model->n_expert == 8) {
    switch (in.recipe) {
      case R::kQ2_K:
      case R::kQ3_K_S:
      case R::kQ3_K_M:
      case R::kQ4_K_S:
      case R::kQ4_K_M:
      case R::kIQ4_XS:
      case R::kIQ3_XS:
      case R::kIQ3_XXS:
      case R::kIQ3_S:
      case R::kIQ3_M:
        return T::kQ5_K;
      default:
        return in.default_type;
    }
  }
  switch (in.recipe) {
    case R::kQ2_K:
      return T::kQ3_K;
    case R::kQ3_K_M:
      return T::kQ4_K;
    case R::kQ3_K_L:
      return T::kQ5_K;
    case R::kIQ3_XXS:
      return T::kIQ3_S;
    case R::kIQ3_M:
      return T::kQ4_K;
    default:
      return in.default_type;
  }
}

GgmlType AttnQkvType(const RuleInput& in) {
  switch (in.recipe) {
    case R::kQ3_K_M:
    case R::kQ3_K_L:
    case R::kIQ3_M:
      return T::kQ4_K;
    case R::kQ4_K_M:
      return T::kQ5_K;
    case R::kQ5_K_M:
      return T::kQ6_K;
    default:
      return in.default_type;
  }
}

}  // namespace

TensorRole ClassifyTensor(std::string_view name, bool model_has_output) {
  if (name == "output.weight" || (!model_has_output && name == "token_embd.weight"))
    return TensorRole::kOutput;
  if (name == "token_embd.weight") return TensorRole::kTokenEmbedding;
  for (const auto& named : kNamedRoles) {
    if (Contains(name, named.fragment)) return named.role;
  }
  return TensorRole::kOther;
}

bool UseMoreBits(int i_layer, int n_layer) {
  return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

bool IsIq2Mixture(Recipe recipe) {
  return recipe == R::kIQ2_XXS || recipe == R::kIQ2_XS || recipe == R::kIQ2_S || recipe == R::kIQ2_M ||
         recipe == R::kIQ1_S || recipe == R::kIQ1_M;
}

GgmlType MixtureType(TensorRole role, const RuleInput& input) {
  if (IsIq2Mixture(input.recipe) && role != TensorRole::kOutput && role != TensorRole::kTokenEmbedding)
    return Iq2MixtureType(role, input);
  switch (role) {
    case TensorRole::kOutput:
      return OutputType(input);
    case TensorRole::kAttnV:
      return AttnVType(input);
    case TensorRole::kAttnK:
      return AttnKType(input);
    case TensorRole::kFfnDown:
      return FfnDownType(input);
    case TensorRole::kAttnOutput:
      return AttnOutputType(input);
    case TensorRole::kAttnQkv:
      return AttnQkvType(input);
    case TensorRole::kTokenEmbedding:
      return TokenEmbeddingType(input);
    case TensorRole::kAttnQ:
      return AttnQType(input);
    case TensorRole::kFfnGate:
    case TensorRole::kFfnUp:
      return FfnGateUpType(input);
    default:
      return input.default_type;
  }
}

std::optional<GgmlType> RowLengthFallback(GgmlType chosen, int64_t row_length) {
  GgmlType fallback;
  switch (chosen) {
    case T::kTQ1_0:
    case T::kTQ2_0:
      fallback = T::kQ4_0;
      break;
    case T::kIQ2_XXS:
    case T::kIQ2_XS:
    case T::kIQ2_S:
    case T::kIQ3_XXS:
    case T::kIQ3_S:
    case T::kIQ1_S:
    case T::kIQ1_M:
    case T::kQ2_K:
    case T::kQ3_K:
    case T::kIQ4_XS:
      fallback = T::kIQ4_NL;
      break;
    case T::kQ4_K:
      fallback = T::kQ5_0;
      break;
    case T::kQ5_K:
      fallback = T::kQ5_1;
      break;
    case T::kQ6_K:
      fallback = T::kQ8_0;
      break;
    default:
      return std::nullopt;
  }
  if (row_length % TypeInfo(fallback).block_size != 0) fallback = T::kF16;
  return fallback;
}

}  // namespace quantlab
