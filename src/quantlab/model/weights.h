// Views of a model's tensors inside the mapped GGUF file. Matrices stay in their stored type and are
// used through the kernels for that type; the small vectors (norm weights, biases) are converted to
// float once at load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "quantlab/gguf/types.h"
#include "quantlab/kernels/kernels.h"

namespace quantlab {

// A 2-D weight: n_out rows of n_in elements, ggml order (y = W x multiplies each row with x).
struct LinearWeight {
  std::string name;
  GgmlType type = GgmlType::kF32;
  int64_t n_in = 0;   // row length
  int64_t n_out = 0;  // number of rows
  const std::byte* data = nullptr;
  size_t row_bytes = 0;
  const TypeKernels* kernels = nullptr;

  const std::byte* Row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
  uint64_t bytes() const { return static_cast<uint64_t>(row_bytes) * n_out; }

  // Rows [first, first + count) as a weight of their own: a part of a fused matrix (phi3's attn_qkv,
  // ffn_up). Each output row is one dot product, so a part computes what the whole computes there.
  LinearWeight Rows(int64_t first, int64_t count, std::string part_name) const {
    LinearWeight part = *this;
    part.name = std::move(part_name);
    part.n_out = count;
    part.data = Row(first);
    return part;
  }
};

struct LayerWeights {
  std::vector<float> attn_norm;       // (n_embd)
  LinearWeight wq;                    // (n_head * head_dim, n_embd)
  LinearWeight wk;                    // (n_embd_kv, n_embd)
  LinearWeight wv;                    // (n_embd_kv, n_embd)
  LinearWeight wo;                    // (n_embd, n_head * head_dim)
  std::vector<float> bq, bk, bv, bo;  // biases; empty when absent (qwen2 has bq/bk/bv)
  std::vector<float> attn_post_norm;  // (n_embd) gemma2: norm of the attention output; else empty
  // Per-head RMSNorm weights of the query and key (qwen3): (head_dim) each, shared by every head;
  // empty when the architecture has none.
  std::vector<float> attn_q_norm, attn_k_norm;

  std::vector<float> ffn_norm;                          // (n_embd)
  LinearWeight ffn_gate;                                // (n_ff, n_embd)
  LinearWeight ffn_up;                                  // (n_ff, n_embd)
  LinearWeight ffn_down;                                // (n_embd, n_ff)
  std::vector<float> ffn_gate_b, ffn_up_b, ffn_down_b;  // empty when absent
  std::vector<float> ffn_post_norm;                     // (n_embd) gemma2: norm of the FFN output
};

struct ModelWeights {
  LinearWeight token_embd;  // (n_vocab, n_embd): rows are looked up, not multiplied
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;        // (n_embd)
  LinearWeight output;                   // (n_vocab, n_embd); a copy of token_embd's view when tied
  std::vector<float> rope_freq_factors;  // (n_rot / 2) divisors of each frequency; empty when absent
};

}  // namespace quantlab
