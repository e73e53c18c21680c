// The llama-family forward pass over one batch of tokens (internal to model/; Session drives it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "quantlab/model/activation_observer.h"
#include "quantlab/model/kv_cache.h"
#include "quantlab/model/llama_config.h"
#include "quantlab/model/weights.h"
#include "quantlab/util/fp16.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {

// std::vector's allocator with default- instead of value-initialisation: scratch is always written before
// it is read, and leaving it unzeroed leaves its pages untouched until a batch that large needs them, so
// short prompts and generation do not pay resident memory for the largest batch.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  UninitializedAllocator() = default;
  template <typename U>
  UninitializedAllocator(const UninitializedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
template <typename T>
using ScratchVector = std::vector<T, UninitializedAllocator<T>>;

// Activation buffers for up to n_batch tokens, allocated once per Session. Shapes are (rows, columns),
// one row per token of the batch.
struct ForwardScratch {
  ForwardScratch(const LlamaConfig& c, int n_batch, int n_ctx, int n_threads);
  uint64_t bytes() const;

  int n_batch;
  ScratchVector<float> x;         // (n_batch, n_embd) residual stream
  ScratchVector<float> xn;        // (n_batch, n_embd) normalized input of a sub-block
  ScratchVector<float> q;         // (n_batch, n_head * head_dim)
  ScratchVector<float> k;         // (n_batch, n_embd_kv)
  ScratchVector<float> v;         // (n_batch, n_embd_kv)
  ScratchVector<float> attn;      // (n_batch, n_head * head_dim) attention output, head after head
  ScratchVector<float> proj;      // (n_batch, n_embd) output of wo / ffn_down before the residual add
  ScratchVector<float> gate;      // (n_batch, n_ff)
  ScratchVector<float> up;        // (n_batch, n_ff)
  ScratchVector<float> rope;      // (n_batch, n_rot) cos, sin pairs per position
  ScratchVector<float> rope_swa;  // the same for windowed layers with a RoPE of their own (gemma3)
  // Attention works on groups of up to kAttentionGroup query vectors (heads of one GQA group, or
  // consecutive tokens of one head) that read the same cache rows.
  static constexpr int kAttentionGroup = 4;
  ScratchVector<float> scores;  // (n_threads, group, n_ctx) attention scores, then probabilities
  ScratchVector<float>
      probs;  // (n_threads, group, n_ctx) probabilities rounded to F16 (as ggml multiplies V)
  ScratchVector<float>
      queries;  // (n_threads, group, head_dim) query heads rounded to F16 (as ggml multiplies K)
  ScratchVector<fp16_t> half;  // (n_threads, max(n_ctx, head_dim)) F16 staging for those roundings
  std::vector<std::byte> act;  // activation rows converted to a weight's vec_dot_type
  ActivationObserver* observer = nullptr;  // sees every weight's input when set (Session sets it)
};

// Runs `tokens` (at most scratch.n_batch) at positions kv.n_past().. through the model, appends their
// K/V to the cache and writes the logits of the last `n_outputs` tokens to `logits`
// ((n_outputs, n_vocab)). Token ids must already be validated.
void ForwardBatch(const LlamaConfig& config, const ModelWeights& weights, KvCache& kv,
                  ForwardScratch& scratch, ThreadPool& pool, std::span<const int32_t> tokens, int n_outputs,
                  float* logits);

}  // namespace quantlab
