// The attention KV cache in F16, as llama.cpp's default: per layer, K rows by position
// (n_ctx, n_head_kv * head_dim) and V transposed (n_head_kv * head_dim, n_ctx) so that the
// probability-weighted sum over positions is one contiguous F16 dot product per output element.
#pragma once

#include <cstdint>
#include <vector>

#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab {

class KvCache {
 public:
  KvCache(int n_layer, int n_ctx, int n_embd_kv)
      : n_ctx_(n_ctx),
        n_embd_kv_(n_embd_kv),
        k_(static_cast<size_t>(n_layer) * n_ctx * n_embd_kv),
        v_(k_.size()) {}

  int n_ctx() const { return n_ctx_; }
  int n_past() const { return n_past_; }
  void set_n_past(int n) {
    QL_CHECK(n >= 0 && n <= n_ctx_);
    n_past_ = n;
  }

  // K of `layer` at `pos`: n_embd_kv halves (head after head).
  fp16_t* K(int layer, int pos) {
    return k_.data() + (static_cast<size_t>(layer) * n_ctx_ + pos) * n_embd_kv_;
  }
  const fp16_t* K(int layer, int pos) const {
    return k_.data() + (static_cast<size_t>(layer) * n_ctx_ + pos) * n_embd_kv_;
  }
  // V of `layer`, channel `c` (kv_head * head_dim + d), over positions 0..n_ctx-1.
  fp16_t* Vt(int layer, int c) { return v_.data() + (static_cast<size_t>(layer) * n_embd_kv_ + c) * n_ctx_; }
  const fp16_t* Vt(int layer, int c) const {
    return v_.data() + (static_cast<size_t>(layer) * n_embd_kv_ + c) * n_ctx_;
  }

  uint64_t bytes() const { return (k_.size() + v_.size()) * sizeof(fp16_t); }

 private:
  int n_ctx_, n_embd_kv_;
  int n_past_ = 0;
  std::vector<fp16_t> k_;  // (n_layer, n_ctx, n_embd_kv)
  std::vector<fp16_t> v_;  // (n_layer, n_embd_kv, n_ctx)
};

}  // namespace quantlab
