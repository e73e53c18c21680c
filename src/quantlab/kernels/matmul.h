// Matrix products of a weight matrix with a batch of activation rows, the engine's one entry point into
// the dot-product kernels.
//
// Shapes: the weight matrix W is (n_rows = out features, n_cols = in features) in its GGUF type; the
// activations are n_tokens rows of n_cols elements, already converted to the type's vec_dot_type (see
// QuantizeActivations); the result is out[token * out_stride + row] = dot(W[row], act[token]), i.e.
// (n_tokens, n_rows) row-major when out_stride == n_rows.
//
// Threading: MatMulRows computes the rows [row_begin, row_end) only, so a thread pool splits the rows
// between threads (each thread its own range; no shared writes). Multi-token calls are blocked so a block
// of weight rows stays in cache while every token passes over it, with small tiles (several rows x
// several tokens) in the inner kernel where the type has one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quantlab/kernels/kernels.h"

namespace quantlab {

struct WeightMatrix {
  GgmlType type;
  int64_t n_rows;     // output features
  int64_t n_cols;     // input features, a multiple of the type's block size
  size_t row_stride;  // bytes between consecutive rows (>= RowBytes(type, n_cols))
  const void* data;
};

struct ActivationBatch {
  const void* data;   // n_tokens rows in the weight type's vec_dot_type
  size_t row_stride;  // bytes between consecutive token rows
  int64_t n_tokens;
};

// Bytes one activation row of `n_cols` elements takes in `weight_type`'s vec_dot_type.
size_t ActivationRowBytes(GgmlType weight_type, int64_t n_cols);

// Converts n_tokens rows of n_cols floats (row stride src_stride floats) into the vec_dot_type of
// `weight_type`, one row every dst_stride bytes (>= ActivationRowBytes).
void QuantizeActivations(GgmlType weight_type, const float* src, size_t src_stride, int64_t n_tokens,
                         int64_t n_cols, void* dst, size_t dst_stride);

// out[t * out_stride + r] = dot(W[r], act[t]) for r in [row_begin, row_end), t < act.n_tokens.
void MatMulRows(const WeightMatrix& weights, const ActivationBatch& act, int64_t row_begin, int64_t row_end,
                float* out, size_t out_stride);

// As above with the kernels of a given ISA (for tests and benchmarks).
void MatMulRows(const WeightMatrix& weights, const ActivationBatch& act, int64_t row_begin, int64_t row_end,
                float* out, size_t out_stride, CpuIsa isa);

}  // namespace quantlab
