// Synthetic llama-, phi3- and gemma2-architecture models: any shape, random weights of realistic scale, a
// valid SentencePiece-style vocabulary, written as GGUF exactly as llama.cpp's converter lays out such a
// model (same keys, tensor names and shapes), so that llama.cpp and quantlab load them alike. Used by tests
// and benchmarks that need a model without downloading one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "quantlab/gguf/metadata.h"
#include "quantlab/gguf/types.h"
#include "quantlab/util/result.h"

namespace quantlab {

// The architectures synth writes, as spelled in general.architecture.
inline constexpr std::array<std::string_view, 3> kSynthArchitectures = {"llama", "phi3", "gemma2"};

struct SynthModelSpec {
  // "llama", or "phi3": fused attn_qkv (rows Q, K, V) and ffn_up (rows gate, up), no ffn_gate, NeoX
  // RoPE, an untied output and the attention.sliding_window key; or "gemma2": post-attention and post-FFN
  // norms, the output tied to token_embd (always), soft-capping and sliding-window keys.
  std::string arch = "llama";
  int sliding_window = 0;       // phi3: 0 = none (as Phi-4 writes it); gemma2: 0 = no key (llama.cpp: 4096)
  float attn_softcap = 50.0f;   // gemma2: attn_logit_softcapping (Gemma 2's value)
  float final_softcap = 30.0f;  // gemma2: final_logit_softcapping
  int n_layer = 2;
  int n_embd = 256;
  int n_head = 4;
  int n_head_kv = 2;  // < n_head: grouped-query attention
  int n_ff = 768;
  int n_vocab = 1024;
  int n_ctx_train = 2048;
  float rope_freq_base = 10000.0f;
  float rms_norm_eps = 1e-5f;
  bool tied_embeddings = false;  // no output.weight; the output projection reuses token_embd (gemma2: always)
  GgmlType weight_type = GgmlType::kF16;  // 2-D weights: F32, F16 or BF16 (norms are always F32)
  uint64_t seed = 42;
  float weight_std = 0.02f;  // standard deviation of the matrices' normal distribution
  std::string name = "quantlab-synth";
};

// Checks that the spec describes a model llama.cpp can load (divisibility, ranges, supported types).
Status ValidateSynthModelSpec(const SynthModelSpec& spec);

// The llama.cpp file type (general.file_type) for the spec's weight type.
uint32_t SynthFileType(const SynthModelSpec& spec);

// The metadata WriteSynthModel writes (hyperparameters and vocabulary).
GgufMetadata SynthModelMetadata(const SynthModelSpec& spec);

// Writes the model to `path` atomically, streaming one tensor at a time. Same spec, same bytes.
Status WriteSynthModel(const SynthModelSpec& spec, const std::string& path);

}  // namespace quantlab
