// The llama-family forward pass over one batch of tokens (internal to model/; Session drives it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quantlab/model/kv_cache.h"
#include "quantlab/model/llama_config.h"
#include "quantlab/model/weights.h"
#include "quantlab/util/fp16.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {

// Activation buffers for up to n_batch tokens, allocated once per Session. Shapes are (rows, columns),
// one row per token of the batch.
struct ForwardScratch {
  ForwardScratch(const LlamaConfig& c, int n_batch, int n_ctx, int n_threads);
  uint64_t bytes() const;

  int n_batch;
  std::vector<float> x;         // (n_batch, n_embd) residual stream
  std::vector<float> xn;        // (n_batch, n_embd) normalized input of a sub-block
  std::vector<float> q;         // (n_batch, n_head * head_dim)
  std::vector<float> k;         // (n_batch, n_embd_kv)
  std::vector<float> v;         // (n_batch, n_embd_kv)
  std::vector<float> attn;      // (n_batch, n_head * head_dim) attention output, head after head
  std::vector<float> proj;      // (n_batch, n_embd) output of wo / ffn_down before the residual add
  std::vector<float> gate;      // (n_batch, n_ff)
  std::vector<float> up;        // (n_batch, n_ff)
  std::vector<float> rope;      // (n_batch, n_rot) cos, sin pairs per position
  std::vector<float> scores;    // (n_threads, n_ctx) attention scores, then probabilities
  std::vector<fp16_t> probs16;  // (n_threads, n_ctx) probabilities in F16 (as ggml multiplies V)
  std::vector<fp16_t> q16;      // (n_threads, head_dim) query head in F16 (as ggml multiplies K)
  std::vector<std::byte> act;   // activation rows converted to a weight's vec_dot_type
};

// Runs `tokens` (at most scratch.n_batch) at positions kv.n_past().. through the model, appends their
// K/V to the cache and writes the logits of the last `n_outputs` tokens to `logits`
// ((n_outputs, n_vocab)). Token ids must already be validated.
void ForwardBatch(const LlamaConfig& config, const ModelWeights& weights, KvCache& kv,
                  ForwardScratch& scratch, ThreadPool& pool, std::span<const int32_t> tokens, int n_outputs,
                  float* logits);

}  // namespace quantlab
