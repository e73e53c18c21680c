// Synthetic llama-, llama3-, qwen3-, phi3- and gemma2-architecture models: any shape, random weights of
// realistic scale, a valid SentencePiece-style vocabulary, written as GGUF exactly as llama.cpp's converter
// lays out such a model (same keys, tensor names and shapes), so that llama.cpp and quantlab load them
// alike. Used by tests and benchmarks that need a model without downloading one.
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
// "llama3" is a llama file (general.architecture "llama") laid out as Llama 3.1's converter writes it.
inline constexpr std::array<std::string_view, 6> kSynthArchitectures = {"llama", "llama3", "qwen3",
                                                                        "phi3",  "gemma2", "gemma3"};

struct SynthModelSpec {
  // "llama";
  // "llama3": a llama file with rope base 500000 (unless rope_freq_base is set otherwise) and the
  //   rope_freqs.weight factors the converter derives from Llama 3.1's rope_scaling (factor 8, low/high
  //   frequency factors 1 and 4, original context 8192); no scaling key, as the converter writes none;
  // "qwen3": per-head attn_q_norm / attn_k_norm, attention.key_length / value_length (head_dim), no
  //   rope.dimension_count, rope base 1e6 and norm epsilon 1e-6 unless set otherwise;
  // "phi3": fused attn_qkv (rows Q, K, V) and ffn_up (rows gate, up), no ffn_gate, NeoX RoPE, an untied
  //   output and the attention.sliding_window key;
  // "gemma2": post-attention and post-FFN norms, the output tied to token_embd (always), soft-capping,
  //   key/value length and sliding-window keys, no space prefix in the vocabulary;
  // "gemma3": gemma2's layout without soft-capping, plus qwen3's per-head Q/K norms, rope base 1e6, the
  //   sliding window always written (0: Gemma 3's 512) and optional linear rope scaling.
  std::string arch = "llama";
  int sliding_window =
      0;  // phi3: 0 = none (as Phi-4 writes it); gemma2: 0 = no key (llama.cpp: 4096); gemma3: 0 = 512
  float rope_scaling_factor = 0.0f;  // gemma3: linear rope scaling of the global layers (0: none)
  int head_dim = 0;  // qwen3, gemma2: the head size when it is not n_embd / n_head (0: n_embd / n_head)
  float attn_softcap = 50.0f;   // gemma2: attn_logit_softcapping (Gemma 2's value)
  float final_softcap = 30.0f;  // gemma2: final_logit_softcapping
  int n_layer = 2;
  int n_embd = 256;
  int n_head = 4;
  int n_head_kv = 2;  // < n_head: grouped-query attention
  int n_ff = 768;
  int n_vocab = 1024;
  int n_ctx_train = 2048;
  float rope_freq_base = 0.0f;  // 0: the architecture's usual base (10000; llama3 500000; qwen3 1000000)
  float rms_norm_eps = 0.0f;    // 0: the architecture's usual epsilon (1e-5; qwen3 1e-6)
  // llama3 and qwen3 only: a byte-level BPE vocabulary as their converters write it instead of the
  // SentencePiece one: llama3's with the llama-bpe pre-tokenizer and BOS added, qwen3's with the qwen2
  // pre-tokenizer and no BOS.
  bool bpe_vocab = false;
  bool tied_embeddings = false;  // no output.weight; the output projection reuses token_embd (gemma2: always)
  GgmlType weight_type = GgmlType::kF16;  // 2-D weights: F32, F16 or BF16 (norms are always F32)
  uint64_t seed = 42;
  float weight_std = 0.02f;  // standard deviation of the matrices' normal distribution
  std::string name = "quantlab-synth";
};

// The head size, rope base and norm epsilon the spec stands for (its own, or the architecture's usual).
int SynthHeadDim(const SynthModelSpec& spec);
float SynthRopeBase(const SynthModelSpec& spec);
float SynthRmsNormEps(const SynthModelSpec& spec);

// Checks that the spec describes a model llama.cpp can load (divisibility, ranges, supported types).
Status ValidateSynthModelSpec(const SynthModelSpec& spec);

// The llama.cpp file type (general.file_type) for the spec's weight type.
uint32_t SynthFileType(const SynthModelSpec& spec);

// The metadata WriteSynthModel writes (hyperparameters and vocabulary).
GgufMetadata SynthModelMetadata(const SynthModelSpec& spec);

// Writes the model to `path` atomically, streaming one tensor at a time. Same spec, same bytes.
Status WriteSynthModel(const SynthModelSpec& spec, const std::string& path);

}  // namespace quantlab
