// The scalar attention kernels: each dot is DotF16F16Scalar's arithmetic (products in float, summed in
// double).
#include "quantlab/kernels/attention_kernels.h"

#include "quantlab/kernels/registry.h"

namespace quantlab {
namespace {

float DotHalfFloat(int64_t n, const fp16_t* x, const float* y) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Fp16ToFp32(x[i]) * y[i]);
  return static_cast<float>(sum);
}

void DotRowsScalar(int64_t n, const fp16_t* rows, size_t row_stride, int64_t n_rows, const float* const* vecs,
                   int m, float* out, size_t out_stride) {
  for (int v = 0; v < m; ++v) {
    for (int64_t j = 0; j < n_rows; ++j)
      out[v * out_stride + j] = DotHalfFloat(n, rows + j * row_stride, vecs[v]);
  }
}

void DotRowMultiScalar(const fp16_t* row, const float* const* vecs, const int64_t* lengths, int m,
                       float* out) {
  for (int v = 0; v < m; ++v) out[v] = DotHalfFloat(lengths[v], row, vecs[v]);
}

}  // namespace

namespace kernels_internal {

AttentionKernels AttentionF16Scalar() {
  return {.dot_rows = DotRowsScalar, .dot_row_multi = DotRowMultiScalar};
}

}  // namespace kernels_internal

}  // namespace quantlab
