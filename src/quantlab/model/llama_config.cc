#include "quantlab/model/llama_config.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <optional>

namespace quantlab {
namespace {

// The architectures quantlab runs, as spelled in general.architecture: the one list that both
// recognises a file and tells the user what is supported.
struct SupportedArch {
  std::string_view name;
  LlamaArch arch;
};
constexpr std::array<SupportedArch, 7> kSupported = {{
    {"llama", LlamaArch::kLlama},
    {"mistral", LlamaArch::kMistral},
    {"qwen2", LlamaArch::kQwen2},
    {"qwen3", LlamaArch::kQwen3},
    {"phi3", LlamaArch::kPhi3},
    {"gemma2", LlamaArch::kGemma2},
    {"gemma3", LlamaArch::kGemma3},
}};

std::string SupportedList() {
  std::string list;
  for (const SupportedArch& s : kSupported) list += fmt::format("{}{}", list.empty() ? "" : ", ", s.name);
  return list;
}

std::optional<LlamaArch> FindArch(std::string_view name) {
  for (const SupportedArch& s : kSupported) {
    if (s.name == name) return s.arch;
  }
  return std::nullopt;
}

Result<int> RequiredInt(const GgufMetadata& metadata, const std::string& key) {
  const GgufValue* value = metadata.Find(key);
  if (value == nullptr) return MakeError("missing metadata key '{}'", key);
  const auto v = value->AsInt();
  if (!v || *v <= 0 || *v > (int64_t{1} << 31) - 1)
    return MakeError("metadata key '{}' is not a positive integer", key);
  return static_cast<int>(*v);
}

Result<int> OptionalInt(const GgufMetadata& metadata, const std::string& key, int fallback) {
  if (!metadata.Contains(key)) return fallback;
  return RequiredInt(metadata, key);
}

Result<float> OptionalFloat(const GgufMetadata& metadata, const std::string& key, float fallback) {
  const GgufValue* value = metadata.Find(key);
  if (value == nullptr) return fallback;
  const auto v = value->AsFloat();
  if (!v || !std::isfinite(*v)) return MakeError("metadata key '{}' is not a finite number", key);
  return static_cast<float>(*v);
}

// phi3's sliding window as llama.cpp c392e50 reads it: attention.sliding_window when present (0 for
// Phi-4: no window), else the window of the Phi-3 release the shape identifies; a file matching none
// is refused, as llama.cpp refuses it.
Result<int> Phi3SlidingWindow(const GgufMetadata& metadata, const LlamaConfig& c) {
  const std::string key = "phi3.attention.sliding_window";
  if (const GgufValue* value = metadata.Find(key)) {
    const auto v = value->AsInt();
    if (!v || *v < 0 || *v > (int64_t{1} << 31) - 1)
      return MakeError("metadata key '{}' is not a non-negative integer", key);
    return static_cast<int>(*v);
  }
  if ((c.n_layer == 32 || c.n_layer == 40) && c.n_ctx_train == 4096) return 2047;      // Phi-3 mini/medium 4k
  if (c.n_layer == 32 && c.n_head_kv == 32 && c.n_ctx_train == 131072) return 262144;  // mini 128k
  if (c.n_layer == 40 && c.n_ctx_train == 131072) return 131072;                       // medium 128k
  return MakeError("missing metadata key '{}' (phi3 needs its sliding window)", key);
}

// gemma2 as llama.cpp c392e50 reads and builds it: embeddings scaled by sqrtf(n_embd), GELU gate, post
// norms, soft-capping (defaults 50 and 30), a sliding window (default 4096) on the even layers, and the
// query scaled by 1/sqrtf(key_length) — except for the 46-layer 27B, whose query_pre_attn_scalar is
// n_embd / n_head. (llama.cpp refuses layer counts other than 26, 42 and 46; quantlab applies the
// key_length rule to them.) The norm weights need no +1: the converter stored w + 1 already.
Status ReadGemma2(const GgufMetadata& metadata, LlamaConfig& c) {
  const std::string p = "gemma2.";
  c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
  c.ffn_activation = FfnActivation::kGeluTanh;
  c.post_norms = true;
  QL_ASSIGN_OR_RETURN(c.attn_softcap, OptionalFloat(metadata, p + "attn_logit_softcapping", 50.0f));
  QL_ASSIGN_OR_RETURN(c.final_softcap, OptionalFloat(metadata, p + "final_logit_softcapping", 30.0f));
  if (!(c.attn_softcap > 0) || !(c.final_softcap > 0)) {
    return MakeError("gemma2: soft-capping values {} and {} must be positive", c.attn_softcap,
                     c.final_softcap);
  }
  QL_ASSIGN_OR_RETURN(c.n_swa, OptionalInt(metadata, p + "attention.sliding_window", 4096));
  c.swa_period = 2;
  c.query_prescaled = true;
  const int query_pre_attn_scalar = c.n_layer == 46 ? c.n_embd / c.n_head : c.head_dim;
  c.query_scale = 1.0f / std::sqrt(static_cast<float>(query_pre_attn_scalar));
  return Ok();
}

// gemma3 (the text model) as ik_llama.cpp builds it (llama.cpp c392e50 predates gemma3): gemma2's
// scaled embeddings, GELU gate and post norms, plus per-head Q/K norms; no soft-capping; five windowed
// layers then one global (il % 6 == 5), the window from attention.sliding_window (required); the
// windowed layers rotate with base 10000 and no scaling, the global ones with rope.freq_base and the
// file's linear scaling; the scores (not the query) scaled by 1/sqrtf(key_length), or
// 1/sqrtf(n_embd / n_head) for the 62-layer 27B.
Status ReadGemma3(const GgufMetadata& metadata, LlamaConfig& c) {
  c.embd_scale = std::sqrt(static_cast<float>(c.n_embd));
  c.ffn_activation = FfnActivation::kGeluTanh;
  c.post_norms = true;
  c.qk_norm = true;
  const std::string key = "gemma3.attention.sliding_window";
  if (!metadata.Contains(key))
    return MakeError("missing metadata key '{}' (gemma3 needs its sliding window)", key);
  QL_ASSIGN_OR_RETURN(c.n_swa, RequiredInt(metadata, key));
  c.swa_period = 6;
  c.rope_freq_base_swa = 10000.0f;
  c.rope_freq_scale_swa = 1.0f;
  const int query_pre_attn_scalar = c.n_layer == 62 ? c.n_embd / c.n_head : c.head_dim;
  c.query_scale = 1.0f / std::sqrt(static_cast<float>(query_pre_attn_scalar));
  return Ok();
}

}  // namespace

Result<LlamaConfig> ReadLlamaConfig(const GgufMetadata& metadata, int n_vocab) {
  LlamaConfig c;
  const auto arch = metadata.GetString("general.architecture");
  if (!arch) return MakeError("missing metadata key 'general.architecture' (supported: {})", SupportedList());
  c.arch_name = *arch;
  const std::optional<LlamaArch> known = FindArch(c.arch_name);
  if (!known) return MakeError("unsupported architecture '{}' (supported: {})", c.arch_name, SupportedList());
  c.arch = *known;
  c.model_name = metadata.GetString("general.name").value_or("");
  c.n_vocab = n_vocab;

  const std::string p = c.arch_name + ".";
  QL_ASSIGN_OR_RETURN(c.n_ctx_train, RequiredInt(metadata, p + "context_length"));
  QL_ASSIGN_OR_RETURN(c.n_embd, RequiredInt(metadata, p + "embedding_length"));
  QL_ASSIGN_OR_RETURN(c.n_layer, RequiredInt(metadata, p + "block_count"));
  QL_ASSIGN_OR_RETURN(c.n_ff, RequiredInt(metadata, p + "feed_forward_length"));
  QL_ASSIGN_OR_RETURN(c.n_head, RequiredInt(metadata, p + "attention.head_count"));
  QL_ASSIGN_OR_RETURN(c.n_head_kv, OptionalInt(metadata, p + "attention.head_count_kv", c.n_head));
  // The head size is attention.key_length where the file has it (Qwen3's 128 is not n_embd / n_head
  // for every size); otherwise it follows from the embedding, which must then split evenly.
  if (!metadata.Contains(p + "attention.key_length") && c.n_embd % c.n_head != 0) {
    return MakeError("embedding_length {} is not a multiple of attention.head_count {}", c.n_embd, c.n_head);
  }
  QL_ASSIGN_OR_RETURN(c.head_dim, OptionalInt(metadata, p + "attention.key_length", c.n_embd / c.n_head));
  QL_ASSIGN_OR_RETURN(const int value_length,
                      OptionalInt(metadata, p + "attention.value_length", c.head_dim));
  if (value_length != c.head_dim) {
    return MakeError("attention.value_length {} differs from key_length {} (not supported)", value_length,
                     c.head_dim);
  }
  if (c.n_head % c.n_head_kv != 0) {
    return MakeError("attention.head_count {} is not a multiple of head_count_kv {}", c.n_head, c.n_head_kv);
  }
  QL_ASSIGN_OR_RETURN(c.n_rot, OptionalInt(metadata, p + "rope.dimension_count", c.head_dim));
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0) {
    return MakeError("rope.dimension_count {} must be even and at most the head size {}", c.n_rot,
                     c.head_dim);
  }
  QL_ASSIGN_OR_RETURN(c.rms_norm_eps, OptionalFloat(metadata, p + "attention.layer_norm_rms_epsilon", 1e-5f));
  QL_ASSIGN_OR_RETURN(c.rope_freq_base, OptionalFloat(metadata, p + "rope.freq_base", 10000.0f));

  // Linear rope scaling divides positions by the factor; llama.cpp also accepts the older
  // rope.scale_linear key. YaRN and other schemes would change the numbers: refuse them.
  const std::string scaling = metadata.GetString(p + "rope.scaling.type").value_or("none");
  QL_ASSIGN_OR_RETURN(float factor, OptionalFloat(metadata, p + "rope.scaling.factor", 0.0f));
  if (factor == 0.0f) {
    QL_ASSIGN_OR_RETURN(factor, OptionalFloat(metadata, p + "rope.scale_linear", 0.0f));
  }
  if (scaling != "none" && scaling != "linear") {
    return MakeError("rope scaling type '{}' is not supported (supported: none, linear)", scaling);
  }
  c.rope_freq_scale = factor > 0.0f ? 1.0f / factor : 1.0f;

  const bool phi3 = c.arch == LlamaArch::kPhi3;
  const bool gemma2 = c.arch == LlamaArch::kGemma2;
  const bool gemma3 = c.arch == LlamaArch::kGemma3;
  const bool qwen = c.arch == LlamaArch::kQwen2 || c.arch == LlamaArch::kQwen3;
  c.rope_style = qwen || phi3 || gemma2 || gemma3 ? RopeStyle::kNeox : RopeStyle::kNormal;
  c.qkv_bias = c.arch == LlamaArch::kQwen2;
  c.qk_norm = c.arch == LlamaArch::kQwen3;
  c.fused_qkv_ffn = phi3;
  c.query_prescaled = phi3;
  c.query_scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  if (gemma2) QL_RETURN_IF_ERROR(ReadGemma2(metadata, c));
  if (gemma3) QL_RETURN_IF_ERROR(ReadGemma3(metadata, c));
  if (phi3) {
    if (c.head_dim * c.n_head != c.n_embd) {
      return MakeError("phi3: attention.key_length {} times head_count {} must equal embedding_length {}",
                       c.head_dim, c.n_head, c.n_embd);
    }
    // The long-context variants scale attention and switch between two sets of RoPE factors by the
    // context size; quantlab does not compute that yet.
    if (metadata.Contains(p + "rope.scaling.attn_factor")) {
      return MakeError("phi3 long-context RoPE scaling (rope.scaling.attn_factor) is not supported");
    }
    QL_ASSIGN_OR_RETURN(c.n_swa, Phi3SlidingWindow(metadata, c));
  }
  return c;
}

}  // namespace quantlab
