#include "quantlab/kernels/matmul.h"

#include <algorithm>

#include "quantlab/kernels/kernel_impl.h"
#include "quantlab/util/check.h"

namespace quantlab {
namespace {

using kernels_internal::TileKernel;

// Cache blocking: a block of weight rows of about kRowBlockBytes stays in L1/L2 while a block of
// kTokenBlock activation rows (a few hundred KB for typical widths, so L2) passes over it.
constexpr size_t kRowBlockBytes = 48 * 1024;
constexpr int64_t kTokenBlock = 64;

struct Operands {
  const char* weights;
  size_t weight_stride;
  const char* act;
  size_t act_stride;
  float* out;
  size_t out_stride;
  int64_t n_cols;
};

void DotPairs(const Operands& op, const TypeKernels& k, int64_t r0, int64_t r1, int64_t t0, int64_t t1) {
  for (int64_t t = t0; t < t1; ++t) {
    const char* a = op.act + t * op.act_stride;
    float* out = op.out + t * op.out_stride;
    for (int64_t r = r0; r < r1; ++r) out[r] = k.vec_dot(op.n_cols, op.weights + r * op.weight_stride, a);
  }
}

// Rows [r0, r1) x tokens [t0, t1): whole tiles with the tile kernel, the ragged edges with vec_dot.
void Block(const Operands& op, const TypeKernels& k, const TileKernel& tile, int64_t r0, int64_t r1,
           int64_t t0, int64_t t1) {
  if (tile.fn == nullptr) {
    DotPairs(op, k, r0, r1, t0, t1);
    return;
  }
  const int64_t r_tiled = r0 + (r1 - r0) / tile.rows * tile.rows;
  const int64_t t_tiled = t0 + (t1 - t0) / tile.tokens * tile.tokens;
  for (int64_t t = t0; t < t_tiled; t += tile.tokens) {
    for (int64_t r = r0; r < r_tiled; r += tile.rows) {
      tile.fn(op.n_cols, op.weights + r * op.weight_stride, op.weight_stride, op.act + t * op.act_stride,
              op.act_stride, op.out + t * op.out_stride + r, op.out_stride);
    }
  }
  DotPairs(op, k, r_tiled, r1, t0, t_tiled);
  DotPairs(op, k, r0, r1, t_tiled, t1);
}

}  // namespace

size_t ActivationRowBytes(GgmlType weight_type, int64_t n_cols) {
  const TypeKernels* k = KernelsFor(weight_type);
  QL_CHECK(k != nullptr);
  return RowBytes(k->vec_dot_type, n_cols);
}

void QuantizeActivations(GgmlType weight_type, const float* src, size_t src_stride, int64_t n_tokens,
                         int64_t n_cols, void* dst, size_t dst_stride) {
  const TypeKernels* k = KernelsFor(weight_type);
  QL_CHECK(k != nullptr && k->from_float != nullptr);
  QL_CHECK(dst_stride >= RowBytes(k->vec_dot_type, n_cols));
  for (int64_t t = 0; t < n_tokens; ++t) {
    k->from_float(src + t * src_stride, static_cast<char*>(dst) + t * dst_stride, n_cols);
  }
}

void MatMulRows(const WeightMatrix& weights, const ActivationBatch& act, int64_t row_begin, int64_t row_end,
                float* out, size_t out_stride) {
  MatMulRows(weights, act, row_begin, row_end, out, out_stride, DetectedIsa());
}

void MatMulRows(const WeightMatrix& weights, const ActivationBatch& act, int64_t row_begin, int64_t row_end,
                float* out, size_t out_stride, CpuIsa isa) {
  const TypeKernels* k = KernelsFor(weights.type, isa);
  QL_CHECK_MSG(k != nullptr && k->vec_dot != nullptr, "no dot-product kernel for this weight type");
  QL_CHECK(0 <= row_begin && row_begin <= row_end && row_end <= weights.n_rows);
  const size_t row_bytes = RowBytes(weights.type, weights.n_cols);
  QL_CHECK(weights.row_stride >= row_bytes);
  const Operands op{static_cast<const char*>(weights.data),
                    weights.row_stride,
                    static_cast<const char*>(act.data),
                    act.row_stride,
                    out,
                    out_stride,
                    weights.n_cols};
  if (act.n_tokens == 1) {
    // Matrix-vector: bandwidth-bound, every weight row is read once anyway.
    DotPairs(op, *k, row_begin, row_end, 0, 1);
    return;
  }
  const TileKernel tile = kernels_internal::TileKernelFor(weights.type, isa);
  const int64_t tile_rows = tile.fn ? tile.rows : 1;
  int64_t row_block = std::max<int64_t>(1, static_cast<int64_t>(kRowBlockBytes / row_bytes));
  row_block = std::max(tile_rows, row_block / tile_rows * tile_rows);
  for (int64_t t0 = 0; t0 < act.n_tokens; t0 += kTokenBlock) {
    const int64_t t1 = std::min(act.n_tokens, t0 + kTokenBlock);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += row_block) {
      Block(op, *k, tile, r0, std::min(row_end, r0 + row_block), t0, t1);
    }
  }
}

}  // namespace quantlab
