// y = W x for a batch of activation rows, directly on W's stored blocks: each activation row is first
// converted to the weight type's vec_dot_type (e.g. Q8_K for K-quants, as ggml does — this rounding is
// part of what llama.cpp computes), then every output element is one vec_dot. Threads split the weight
// rows, so each thread streams its own slice of W once per batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quantlab/model/weights.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {

// x: (n_tokens, w.n_in) floats; y: (n_tokens, w.n_out) floats. `act_scratch` is resized as needed.
void MatMul(ThreadPool& pool, const LinearWeight& w, const float* x, int n_tokens, float* y,
            std::vector<std::byte>& act_scratch);

// Converts n_tokens rows of n floats into `type` rows (the activation side of a vec_dot), in parallel.
// Returns the byte stride of one converted row.
size_t ConvertActivations(ThreadPool& pool, const TypeKernels& kernels, const float* x, int64_t n,
                          int n_tokens, std::vector<std::byte>& out);

}  // namespace quantlab
