// Element-wise math of the forward pass that ggml computes with its own vectorised exp: SiLU (the gate
// of the feed-forward block) and the exponentials of the attention softmax. ggml's CPU backend replaces
// expf there by a polynomial approximation (ARM's optimized-routines expf, max error ~1.5 ulp), with an
// AVX-512 and an AVX2 formulation that round differently in rare cases; quantlab computes the same
// arithmetic at the same ISA, so these values equal llama.cpp's on the machine that runs both. The
// scalar path uses expf, as ggml's portable build does.
#pragma once

#include <cstdint>

#include "quantlab/kernels/kernels.h"

namespace quantlab {

struct ActivationMath {
  // gate[i] = silu(gate[i]) * up[i] over one row of n values (silu(x) = x / (1 + exp(-x)), rounded to
  // float before the product, as ggml's silu followed by mul). Like ggml's, the vector loop covers the
  // whole vectors of the row and the n % width tail uses expf.
  void (*silu_mul_row)(float* gate, const float* up, int64_t n);
  // y[i] = exp(x[i] - max) for i < n, every element through the vector exp (a softmax row of ggml's is
  // a whole number of vectors: the KV length is padded), returning the sum of the y[i] in double.
  double (*exp_shifted)(const float* x, float max, float* y, int64_t n);
};

const ActivationMath& ActivationMathFor();  // at the detected ISA
const ActivationMath& ActivationMathFor(CpuIsa isa);

}  // namespace quantlab
