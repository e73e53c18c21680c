#include "quantlab/model/matmul.h"

#include <algorithm>

#include "quantlab/kernels/matmul.h"
#include "quantlab/util/check.h"

namespace quantlab {
namespace {
// Threads get whole multiples of this many weight rows (a multiple of every tile kernel's row count).
constexpr int64_t kRowGrain = 16;
}  // namespace

size_t ConvertActivations(ThreadPool& pool, const TypeKernels& kernels, const float* x, int64_t n,
                          int n_tokens, std::vector<std::byte>& out) {
  const size_t stride = RowBytes(kernels.vec_dot_type, n);
  const size_t needed = stride * n_tokens;
  if (out.size() < needed) out.resize(needed);
  std::byte* dst = out.data();
  const auto convert = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) kernels.from_float(x + t * n, dst + t * stride, n);
  };
  if (n_tokens == 1) {
    convert(0, 1);
  } else {
    pool.ParallelFor(n_tokens, convert);
  }
  return stride;
}

void MatMul(ThreadPool& pool, const LinearWeight& w, const float* x, int n_tokens, float* y,
            std::vector<std::byte>& act_scratch) {
  QL_CHECK(w.kernels != nullptr && n_tokens >= 1);
  const size_t stride = ConvertActivations(pool, *w.kernels, x, w.n_in, n_tokens, act_scratch);
  const WeightMatrix matrix{w.type, w.n_out, w.n_in, w.row_bytes, w.data};
  const ActivationBatch act{act_scratch.data(), stride, n_tokens};
  pool.ParallelFor(
      w.n_out,
      [&](int64_t row_begin, int64_t row_end) { MatMulRows(matrix, act, row_begin, row_end, y, w.n_out); },
      kRowGrain);
}

}  // namespace quantlab
