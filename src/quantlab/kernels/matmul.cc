#include "quantlab/kernels/matmul.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "quantlab/kernels/registry.h"
#include "quantlab/util/check.h"

namespace quantlab {
namespace {

using kernels_internal::GemmKernel;

// Cache blocking. Batched kernels: per block of kTokenBlock activation rows (~300 KB at 4096 columns of
// Q8_K, so it stays in L2), each small group of weight rows is unpacked once into an L1-sized buffer and
// multiplied with every token of the block. Without a batched kernel: a block of weight rows of about
// kRowBlockBytes (L1/L2) is reused by every token of the block.
constexpr size_t kRowBlockBytes = 48 * 1024;
constexpr int64_t kTokenBlock = 64;
constexpr int kMaxGemmRows = 32;
// Panel kernels unpack 16 rows at a time at a higher cost per row, so their token block is as long as
// the activation rows allow while staying well inside L2 (up to kMaxPanelTokenBlock tokens).
constexpr size_t kPanelActivationBytes = 1280 * 1024;
constexpr int64_t kMaxPanelTokenBlock = 512;

int64_t TokenBlock(const GemmKernel& gemm, size_t act_stride) {
  if (gemm.unpack_panel == nullptr) return kTokenBlock;
  const auto fit = static_cast<int64_t>(kPanelActivationBytes / std::max<size_t>(act_stride, 1));
  return std::clamp<int64_t>(fit / 16 * 16, kTokenBlock, kMaxPanelTokenBlock);
}

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

// Batched path: for each token block (its activations packed first if the kernel asks), each group of
// gemm.max_rows weight rows is unpacked once and multiplied with the block's tokens, gemm.max_tokens at a
// time (a panel kernel takes the whole block).
void GemmRows(const Operands& op, const GemmKernel& gemm, int64_t row_begin, int64_t row_end,
              int64_t n_tokens) {
  const size_t unpacked_bytes = gemm.unpacked_row_bytes(op.n_cols);
  // A panel kernel unpacks all its rows into one buffer of unpacked_bytes.
  const int buffers = gemm.unpack_panel != nullptr ? 1 : gemm.max_rows;
  std::vector<uint8_t> storage(unpacked_bytes * buffers + 64);
  uint8_t* base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  const void* rows[kMaxGemmRows];
  QL_CHECK(gemm.max_rows <= kMaxGemmRows);
  for (int i = 0; i < buffers; ++i) rows[i] = base + i * unpacked_bytes;
  // Packed activations: one token block at a time, in `packed`.
  const size_t packed_stride = gemm.pack_activation != nullptr ? gemm.packed_activation_bytes(op.n_cols) : 0;
  const int64_t token_block = TokenBlock(gemm, packed_stride != 0 ? packed_stride : op.act_stride);
  std::vector<uint8_t> packed(packed_stride * std::min(n_tokens, token_block));
  for (int64_t t0 = 0; t0 < n_tokens; t0 += token_block) {
    const int64_t t1 = std::min(n_tokens, t0 + token_block);
    const char* act = op.act + t0 * op.act_stride;
    size_t act_stride = op.act_stride;
    if (packed_stride != 0) {
      for (int64_t t = t0; t < t1; ++t)
        gemm.pack_activation(op.act + t * op.act_stride, op.n_cols, packed.data() + (t - t0) * packed_stride);
      act = reinterpret_cast<const char*>(packed.data());
      act_stride = packed_stride;
    }
    for (int64_t r = row_begin; r < row_end; r += gemm.max_rows) {
      const int n_rows = static_cast<int>(std::min<int64_t>(gemm.max_rows, row_end - r));
      if (gemm.unpack_panel != nullptr) {
        const void* sources[kMaxGemmRows];
        for (int i = 0; i < n_rows; ++i) sources[i] = op.weights + (r + i) * op.weight_stride;
        gemm.unpack_panel(sources, n_rows, op.n_cols, base);
      } else {
        for (int i = 0; i < n_rows; ++i) {
          gemm.unpack(op.weights + (r + i) * op.weight_stride, op.n_cols, base + i * unpacked_bytes);
        }
      }
      for (int64_t t = t0; t < t1; t += gemm.max_tokens) {
        const int n_tok = static_cast<int>(std::min<int64_t>(gemm.max_tokens, t1 - t));
        gemm.tile(op.n_cols, rows, n_rows, act + (t - t0) * act_stride, act_stride, n_tok,
                  op.out + t * op.out_stride + r, op.out_stride);
      }
    }
  }
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
  const GemmKernel gemm = kernels_internal::GemmKernelFor(weights.type, isa);
  if (gemm.blocked != nullptr) {
    // One workspace per thread, kept across calls (the kernel's packed panel and tile).
    thread_local std::vector<uint8_t> workspace;
    const size_t bytes = gemm.workspace_bytes(op.n_cols) + 64;
    if (workspace.size() < bytes) workspace.resize(bytes);
    void* aligned = workspace.data() + (64 - reinterpret_cast<uintptr_t>(workspace.data()) % 64) % 64;
    gemm.blocked(op.weights + row_begin * op.weight_stride, op.weight_stride, row_end - row_begin, op.n_cols,
                 op.act, op.act_stride, act.n_tokens, out + row_begin, out_stride, aligned);
    return;
  }
  if (gemm.tile != nullptr) {
    GemmRows(op, gemm, row_begin, row_end, act.n_tokens);
    return;
  }
  // No batched kernel: pairs of vec_dots, blocked so a few rows stay in cache across the token block.
  const int64_t row_block = std::max<int64_t>(1, static_cast<int64_t>(kRowBlockBytes / row_bytes));
  for (int64_t t0 = 0; t0 < act.n_tokens; t0 += kTokenBlock) {
    const int64_t t1 = std::min(act.n_tokens, t0 + kTokenBlock);
    for (int64_t r0 = row_begin; r0 < row_end; r0 += row_block) {
      DotPairs(op, *k, r0, std::min(row_end, r0 + row_block), t0, t1);
    }
  }
}

}  // namespace quantlab
