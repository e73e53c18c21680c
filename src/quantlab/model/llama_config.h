// The hyper-parameters of a llama-family model, read from a GGUF file's "<arch>.*" metadata keys as
// llama.cpp reads them (same keys, same defaults).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quantlab/gguf/metadata.h"
#include "quantlab/util/result.h"

namespace quantlab {

enum class LlamaArch { kLlama, kMistral, kQwen2, kQwen3, kPhi3, kGemma2, kGemma3 };

// How RoPE pairs the dimensions of a head: llama.cpp's NORMAL mode rotates adjacent pairs (x[2i],
// x[2i+1]) — used by llama and mistral files, whose Q/K weights the converter permuted for it; NEOX
// mode rotates (x[i], x[i + n_rot/2]) — used by qwen2, qwen3, phi3, gemma2 and gemma3.
enum class RopeStyle { kNormal, kNeox };

// The gate's activation in the gated feed-forward block: SiLU (llama, qwen2, phi3) or GELU with the tanh
// approximation (gemma2).
enum class FfnActivation { kSilu, kGeluTanh };

struct LlamaConfig {
  LlamaArch arch = LlamaArch::kLlama;
  std::string arch_name;   // "llama", "mistral", "qwen2", "qwen3", "phi3", "gemma2" as general.architecture
  std::string model_name;  // general.name, may be empty

  int n_vocab = 0;      // rows of token_embd.weight
  int n_ctx_train = 0;  // <arch>.context_length
  int n_embd = 0;       // <arch>.embedding_length
  int n_layer = 0;      // <arch>.block_count
  int n_head = 0;       // <arch>.attention.head_count
  int n_head_kv = 0;    // <arch>.attention.head_count_kv (defaults to n_head: no GQA)
  int head_dim = 0;     // <arch>.attention.key_length, else n_embd / n_head (qwen3's may differ from it)
  int n_ff = 0;         // <arch>.feed_forward_length
  int n_rot = 0;        // <arch>.rope.dimension_count (defaults to head_dim)

  float rms_norm_eps = 1e-5f;    // <arch>.attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000;  // <arch>.rope.freq_base
  float rope_freq_scale = 1.0f;  // 1 / <arch>.rope.scaling.factor for linear scaling
  RopeStyle rope_style = RopeStyle::kNormal;

  // phi3 stores Q, K and V as one attn_qkv matrix (rows: Q, then K, then V) and the FFN's gate and up
  // as one ffn_up matrix (rows: gate, then up); quantlab binds row ranges of them as the usual weights.
  bool fused_qkv_ffn = false;
  // The attention scale: phi3's and gemma2's graphs multiply the roped query by query_scale before
  // attention (so before its F16 rounding) and score with scale 1; the others scale the scores by it
  // (1/sqrt(head_dim), or gemma3's rule). The rounding differs.
  bool query_prescaled = false;
  float query_scale = 1.0f;
  // Sliding-window attention (<arch>.attention.sliding_window): a token sees only the n_swa latest
  // positions, its own included. 0: the whole causal window. swa_period 0: every layer is windowed
  // (phi3); P > 1: layer il is windowed when il % P < P - 1 (gemma2: P = 2, the even layers).
  int n_swa = 0;
  int swa_period = 0;
  // gemma3: the windowed layers rotate with a RoPE of their own (base 10000, no scaling); 0: the same
  // RoPE for every layer.
  float rope_freq_base_swa = 0.0f;
  float rope_freq_scale_swa = 1.0f;

  // gemma2: the looked-up embeddings are multiplied by embd_scale (sqrtf(n_embd)); 0: not scaled.
  float embd_scale = 0.0f;
  FfnActivation ffn_activation = FfnActivation::kSilu;
  // gemma2's soft-capping: scores s -> cap * tanh(s / cap) before the softmax (attention) and on the
  // logits (final). 0: none.
  float attn_softcap = 0.0f;
  float final_softcap = 0.0f;
  // gemma2: attn_post_norm and ffn_post_norm normalise each block's output before the residual add.
  bool post_norms = false;

  bool qkv_bias = false;  // attn_q/k/v.bias present (qwen2)
  // attn_q_norm / attn_k_norm (head_dim weights each): every query and key head is RMS-normalized on
  // its own, with the model's epsilon, after the projection and before RoPE (qwen3).
  bool qk_norm = false;
  bool tied_embeddings = false;  // output.weight absent: token_embd.weight is the output matrix

  int n_embd_kv() const { return n_head_kv * head_dim; }  // width of one K or V row per token
  int n_gqa() const { return n_head / n_head_kv; }        // query heads per KV head
  bool LayerIsWindowed(int il) const {
    return n_swa > 0 && (swa_period == 0 || il % swa_period < swa_period - 1);
  }
};

// Reads and validates the configuration. `n_vocab` comes from the caller (token_embd.weight's rows).
// Errors name the missing or invalid key, or list the supported architectures.
Result<LlamaConfig> ReadLlamaConfig(const GgufMetadata& metadata, int n_vocab);

}  // namespace quantlab
