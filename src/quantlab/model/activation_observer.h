// A hook that sees the activations entering every weight matrix of the forward pass, before they are
// converted to the weight's vec_dot_type (what llama.cpp's eval callback sees as a MUL_MAT's src1). The
// importance matrix (eval/imatrix.h) is computed with it. Unset (the default), it costs one null check
// per matrix product.
#pragma once

#include <cstdint>
#include <string_view>

namespace quantlab {

class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;

  // `x`: (n_tokens, n_in) floats entering the weight named `weight_name` (the GGUF tensor's name; the
  // parts of a fused matrix, e.g. phi3's attn_qkv, are reported once under the fused tensor's name).
  // Called from the thread that drives the forward pass, once per matrix product.
  virtual void Observe(std::string_view weight_name, const float* x, int n_tokens, int64_t n_in) = 0;
};

}  // namespace quantlab
