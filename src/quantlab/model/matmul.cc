#include "quantlab/model/matmul.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <string_view>

#include "quantlab/kernels/matmul.h"
#include "quantlab/util/check.h"

namespace quantlab {
namespace {

// Chunks are whole multiples of this many weight rows (a multiple of every tile kernel's row count).
constexpr int64_t kRowGrain = 32;
// About this many chunks per thread: enough for a late thread's share to be taken over by the others,
// few enough that a chunk (>= kRowGrain rows) amortises its counter update and, for batches, the
// batched kernel's set-up.
constexpr int64_t kChunksPerThread = 4;
constexpr size_t kMaxTargets = 4;

int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// The GGUF tensor a weight is (a part of): "blk.0.attn_qkv.weight[q]" -> "blk.0.attn_qkv.weight".
std::string_view TensorName(const LinearWeight& w) {
  const std::string_view name = w.name;
  return name.substr(0, name.find('['));
}

// Shows x to the observer once per distinct tensor among the targets.
void ObserveInputs(ActivationObserver& observer, std::span<const MatMulTarget> targets, const float* x,
                   int n_tokens) {
  for (size_t i = 0; i < targets.size(); ++i) {
    const std::string_view name = TensorName(*targets[i].w);
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen = seen || TensorName(*targets[j].w) == name;
    if (!seen) observer.Observe(name, x, n_tokens, targets[i].w->n_in);
  }
}

}  // namespace

size_t ConvertActivations(ThreadPool& pool, const TypeKernels& kernels, const float* x, int64_t n,
                          int n_tokens, std::vector<std::byte>& out, size_t offset) {
  const size_t stride = RowBytes(kernels.vec_dot_type, n);
  const size_t needed = offset + stride * n_tokens;
  if (out.size() < needed) out.resize(needed);
  std::byte* dst = out.data() + offset;
  // The kernels' one activation converter (the one tests/kernels checks), on each thread's token range.
  const auto convert = [&](int64_t begin, int64_t end) {
    QuantizeActivations(kernels.type, x + begin * n, static_cast<size_t>(n), end - begin, n,
                        dst + begin * stride, stride);
  };
  if (n_tokens == 1) {
    convert(0, 1);
  } else {
    pool.ParallelFor(n_tokens, convert);
  }
  return stride;
}

void MatMulShared(ThreadPool& pool, std::span<const MatMulTarget> targets, const float* x, int n_tokens,
                  std::vector<std::byte>& act_scratch, ActivationObserver* observer) {
  QL_CHECK(!targets.empty() && targets.size() <= kMaxTargets && n_tokens >= 1);
  const int64_t n_in = targets[0].w->n_in;
  if (observer != nullptr) ObserveInputs(*observer, targets, x, n_tokens);

  // Convert x once per distinct vec_dot_type. Offsets are computed first so that resizing the scratch
  // for a later type cannot move rows converted earlier out from under their pointers.
  std::array<size_t, kMaxTargets> offset{};  // of each target's activation rows in act_scratch
  std::array<size_t, kMaxTargets> stride{};
  size_t total = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const LinearWeight& w = *targets[i].w;
    QL_CHECK(w.kernels != nullptr && w.n_in == n_in);
    stride[i] = RowBytes(w.kernels->vec_dot_type, n_in);
    offset[i] = total;
    for (size_t j = 0; j < i; ++j) {
      if (targets[j].w->kernels->vec_dot_type == w.kernels->vec_dot_type) {
        offset[i] = offset[j];
        break;
      }
    }
    if (offset[i] == total) total += stride[i] * n_tokens;
  }
  if (act_scratch.size() < total) act_scratch.resize(total);
  for (size_t i = 0; i < targets.size(); ++i) {
    bool done = false;
    for (size_t j = 0; j < i; ++j) done = done || offset[j] == offset[i];
    if (!done) ConvertActivations(pool, *targets[i].w->kernels, x, n_in, n_tokens, act_scratch, offset[i]);
  }

  std::array<WeightMatrix, kMaxTargets> matrix{};
  std::array<ActivationBatch, kMaxTargets> act{};
  std::array<int64_t, kMaxTargets + 1> first_row{};  // rows of all targets, end to end
  for (size_t i = 0; i < targets.size(); ++i) {
    const LinearWeight& w = *targets[i].w;
    matrix[i] = WeightMatrix{w.type, w.n_out, w.n_in, w.row_bytes, w.data};
    act[i] = ActivationBatch{act_scratch.data() + offset[i], stride[i], n_tokens};
    first_row[i + 1] = first_row[i] + RoundUp(w.n_out, kRowGrain);
  }
  const int64_t all_rows = first_row[targets.size()];
  // Runs the rows [begin, end) of the concatenation; a chunk may span two targets.
  const auto run_rows = [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < targets.size() && begin < end; ++i) {
      const int64_t lo = std::max(begin, first_row[i]), hi = std::min(end, first_row[i + 1]);
      if (lo >= hi) continue;
      const int64_t n_out = matrix[i].n_rows;
      const int64_t r0 = std::min(lo - first_row[i], n_out), r1 = std::min(hi - first_row[i], n_out);
      if (r0 < r1) MatMulRows(matrix[i], act[i], r0, r1, targets[i].y, static_cast<size_t>(n_out));
    }
  };
  if (pool.size() == 1) {
    run_rows(0, all_rows);
    return;
  }
  const int64_t chunk = std::max(kRowGrain, RoundUp(all_rows / (pool.size() * kChunksPerThread), kRowGrain));
  std::atomic<int64_t> next{0};
  pool.RunOnAll([&](int, int) {
    for (int64_t begin = next.fetch_add(chunk, std::memory_order_relaxed); begin < all_rows;
         begin = next.fetch_add(chunk, std::memory_order_relaxed)) {
      run_rows(begin, std::min(all_rows, begin + chunk));
    }
  });
}

void MatMul(ThreadPool& pool, const LinearWeight& w, const float* x, int n_tokens, float* y,
            std::vector<std::byte>& act_scratch, ActivationObserver* observer) {
  const MatMulTarget target{&w, y};
  MatMulShared(pool, std::span<const MatMulTarget>(&target, 1), x, n_tokens, act_scratch, observer);
}

}  // namespace quantlab
