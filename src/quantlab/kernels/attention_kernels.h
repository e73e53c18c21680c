// The dot products of attention against the F16 KV cache, several query vectors at a time, so that each
// cache row is loaded and converted once for all the query heads (GQA group) or tokens that read it.
//
// Every single dot has exactly the arithmetic of KernelsFor(kF16, isa)->vec_dot with the vector given in
// F16: `vecs` hold F16 values widened to float (rounding a query or a probability to F16 first is the
// caller's job, as it is for vec_dot). So batching changes speed, never a bit of the result; the tests
// compare against vec_dot exactly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quantlab/kernels/kernels.h"
#include "quantlab/util/fp16.h"

namespace quantlab {

struct AttentionKernels {
  // Scores: out[i * out_stride + j] = dot(rows + j * row_stride, vecs[i]) over n elements, for i < m and
  // j < n_rows (K rows by position against m queries).
  void (*dot_rows)(int64_t n, const fp16_t* rows, size_t row_stride, int64_t n_rows, const float* const* vecs,
                   int m, float* out, size_t out_stride);
  // Weighted values: out[i] = dot(row, vecs[i]) over lengths[i] elements, for i < m (one channel of the
  // transposed V cache against m probability vectors, each as long as its token's causal window).
  void (*dot_row_multi)(const fp16_t* row, const float* const* vecs, const int64_t* lengths, int m,
                        float* out);
};

// At the detected ISA, or at a given one (capped to what the CPU runs).
const AttentionKernels& AttentionKernelsFor();
const AttentionKernels& AttentionKernelsFor(CpuIsa isa);

}  // namespace quantlab
