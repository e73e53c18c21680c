// Dot-product and matmul throughput per weight type and ISA, next to the machine's plain read bandwidth.
//
//   VecDot/<type>/<isa>     one row x one activation row, weights hot in L1/L2: compute speed, in bytes of
//                           weights per second.
//   MatVec/<type>/<isa>     a weight matrix of >= 3x the L3 size times one token (generation): compare its
//                           bytes/s with ReadBandwidth to judge the memory-bandwidth fraction.
//   MatMul/<type>/<isa>     4096 x 4096 weights times 128 tokens (prompt processing): items/s = tokens/s,
//                           and the flop rate as a counter.
//   ReadBandwidth           sums a 512 MiB buffer, one thread.
//   MatVec2T/<type>, ReadBandwidth2T   the same with two threads (rows / buffer halves), wall time: the
//                           figures for "fraction of the machine's bandwidth" at 2 threads.
//
// Single-threaded unless named *2T; rates use CPU time for 1 thread (robust on a shared machine) and wall
// time for 2. Run with --benchmark_filter to pick.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "quantlab/kernels/kernels.h"
#include "quantlab/kernels/matmul.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/util/fp16.h"

namespace quantlab {
namespace {

constexpr int64_t kCols = 4096;

uint64_t NextRandom(uint64_t& state) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

// Random weight rows that are valid blocks: random bits, then every block's float fields set to a small
// half value (random bits could be NaN/Inf and slow the float paths).
void FillWeights(GgmlType type, int64_t n_rows, std::vector<uint8_t>& data) {
  const size_t row_bytes = RowBytes(type, kCols);
  data.resize(row_bytes * n_rows);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    const uint64_t r = NextRandom(state);
    std::memcpy(&data[i], &r, 8);
  }
  const GgmlTypeInfo& info = TypeInfo(type);
  if (!info.quantized) {
    // Float rows: overwrite with small finite values.
    for (size_t i = 0; i < data.size(); i += 2) {
      const uint16_t h = type == GgmlType::kBF16 ? Fp32ToBf16(0.01f * static_cast<float>(i % 97))
                                                 : Fp32ToFp16(0.01f * static_cast<float>(i % 97));
      if (type == GgmlType::kF32) {
        const float f = 0.01f * static_cast<float>(i % 89);
        if (i % 4 == 0) std::memcpy(&data[i], &f, 4);
      } else {
        std::memcpy(&data[i], &h, 2);
      }
    }
    return;
  }
  const fp16_t small = Fp32ToFp16(0.01f);
  const size_t block_bytes = info.block_bytes;
  // Offsets of the half-precision fields inside each block.
  std::vector<size_t> half_fields;
  switch (type) {
    case GgmlType::kQ4_0:
    case GgmlType::kQ5_0:
    case GgmlType::kQ8_0:
      half_fields = {0};
      break;
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_1:
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K:
      half_fields = {0, 2};
      break;
    case GgmlType::kQ2_K:
      half_fields = {offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin)};
      break;
    case GgmlType::kQ3_K:
      half_fields = {offsetof(BlockQ3_K, d)};
      break;
    case GgmlType::kQ6_K:
      half_fields = {offsetof(BlockQ6_K, d)};
      break;
    default:
      break;
  }
  for (size_t b = 0; b + block_bytes <= data.size(); b += block_bytes) {
    for (size_t off : half_fields) std::memcpy(&data[b + off], &small, 2);
    if (type == GgmlType::kQ8_0) {
      for (size_t i = 2; i < block_bytes; ++i) {
        if (data[b + i] == 0x80) data[b + i] = 0x81;
      }
    }
  }
}

std::vector<uint8_t> Activations(GgmlType type, int64_t n_tokens, size_t* stride) {
  *stride = ActivationRowBytes(type, kCols);
  std::vector<float> x(kCols * n_tokens);
  uint64_t state = 12345;
  for (float& v : x) v = static_cast<float>(static_cast<int64_t>(NextRandom(state) % 2001) - 1000) * 1e-3f;
  std::vector<uint8_t> act(*stride * n_tokens);
  QuantizeActivations(type, x.data(), kCols, n_tokens, kCols, act.data(), *stride);
  return act;
}

void BM_VecDot(benchmark::State& state, GgmlType type, CpuIsa isa) {
  // 8 rows: 18..66 KB of weights, hot in L1/L2.
  constexpr int64_t kRows = 8;
  std::vector<uint8_t> weights;
  FillWeights(type, kRows, weights);
  size_t act_stride;
  const std::vector<uint8_t> act = Activations(type, 1, &act_stride);
  const TypeKernels* k = KernelsFor(type, isa);
  const size_t row_bytes = RowBytes(type, kCols);
  for (auto _ : state) {
    float sum = 0;
    for (int64_t r = 0; r < kRows; ++r) sum += k->vec_dot(kCols, weights.data() + r * row_bytes, act.data());
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kRows * row_bytes);
}

void BM_MatVec(benchmark::State& state, GgmlType type, CpuIsa isa) {
  const size_t row_bytes = RowBytes(type, kCols);
  const int64_t n_rows = std::max<int64_t>(4096, (96ll << 20) / static_cast<int64_t>(row_bytes));
  std::vector<uint8_t> weights;
  FillWeights(type, n_rows, weights);
  size_t act_stride;
  const std::vector<uint8_t> act = Activations(type, 1, &act_stride);
  std::vector<float> out(n_rows);
  const WeightMatrix w{type, n_rows, kCols, row_bytes, weights.data()};
  const ActivationBatch batch{act.data(), act_stride, 1};
  for (auto _ : state) {
    MatMulRows(w, batch, 0, n_rows, out.data(), n_rows, isa);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n_rows * row_bytes);
}

void BM_MatMul(benchmark::State& state, GgmlType type, CpuIsa isa) {
  constexpr int64_t kRows = 4096, kTokens = 128;
  const size_t row_bytes = RowBytes(type, kCols);
  std::vector<uint8_t> weights;
  FillWeights(type, kRows, weights);
  size_t act_stride;
  const std::vector<uint8_t> act = Activations(type, kTokens, &act_stride);
  std::vector<float> out(kRows * kTokens);
  const WeightMatrix w{type, kRows, kCols, row_bytes, weights.data()};
  const ActivationBatch batch{act.data(), act_stride, kTokens};
  for (auto _ : state) {
    MatMulRows(w, batch, 0, kRows, out.data(), kRows, isa);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kTokens);
  state.counters["GFLOPS"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2.0 * kRows * kCols * kTokens * 1e-9,
                         benchmark::Counter::kIsRate);
}

// Sums `bytes` bytes (a multiple of 32) with four independent 64-bit lanes; the compiler vectorises it.
uint64_t SumBytes(const uint8_t* data, size_t bytes) {
  uint64_t acc[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < bytes; i += 32) {
    uint64_t v[4];
    std::memcpy(v, data + i, 32);
    for (int k = 0; k < 4; ++k) acc[k] += v[k];
  }
  return acc[0] + acc[1] + acc[2] + acc[3];
}

constexpr size_t kBandwidthBytes = size_t{512} << 20;

void BM_ReadBandwidth(benchmark::State& state, int threads) {
  std::unique_ptr<uint8_t[]> buffer(new uint8_t[kBandwidthBytes]);
  std::memset(buffer.get(), 1, kBandwidthBytes);
  const size_t part = kBandwidthBytes / threads;
  for (auto _ : state) {
    std::vector<uint64_t> sums(threads);
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) {
      pool.emplace_back([&, t] { sums[t] = SumBytes(buffer.get() + t * part, part); });
    }
    sums[0] = SumBytes(buffer.get(), part);
    for (auto& th : pool) th.join();
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kBandwidthBytes));
}

void BM_MatVec2T(benchmark::State& state, GgmlType type) {
  const size_t row_bytes = RowBytes(type, kCols);
  const int64_t n_rows = std::max<int64_t>(4096, (96ll << 20) / static_cast<int64_t>(row_bytes)) / 32 * 32;
  std::vector<uint8_t> weights;
  FillWeights(type, n_rows, weights);
  size_t act_stride;
  const std::vector<uint8_t> act = Activations(type, 1, &act_stride);
  std::vector<float> out(n_rows);
  const WeightMatrix w{type, n_rows, kCols, row_bytes, weights.data()};
  const ActivationBatch batch{act.data(), act_stride, 1};
  for (auto _ : state) {
    std::thread other([&] { MatMulRows(w, batch, n_rows / 2, n_rows, out.data(), n_rows); });
    MatMulRows(w, batch, 0, n_rows / 2, out.data(), n_rows);
    other.join();
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n_rows * row_bytes);
}

const GgmlType kTypes[] = {GgmlType::kF16,  GgmlType::kBF16, GgmlType::kF32,  GgmlType::kQ8_0,
                           GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
                           GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K,
                           GgmlType::kQ6_K};

// The types the lab ships (matvec/matmul benches are heavier, so only these).
const GgmlType kLabTypes[] = {GgmlType::kF16,  GgmlType::kQ8_0, GgmlType::kQ6_K, GgmlType::kQ5_K,
                              GgmlType::kQ4_K, GgmlType::kQ3_K, GgmlType::kQ2_K, GgmlType::kQ4_0};

[[maybe_unused]] const bool kRegistered = [] {
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : kTypes) {
      const std::string suffix = std::string(TypeName(type)) + "/" + IsaName(isa);
      benchmark::RegisterBenchmark(("VecDot/" + suffix).c_str(), BM_VecDot, type, isa);
    }
  }
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : kLabTypes) {
      const std::string suffix = std::string(TypeName(type)) + "/" + IsaName(isa);
      benchmark::RegisterBenchmark(("MatVec/" + suffix).c_str(), BM_MatVec, type, isa)
          ->Unit(benchmark::kMillisecond);
      if (isa != CpuIsa::kScalar) {
        benchmark::RegisterBenchmark(("MatMul/" + suffix).c_str(), BM_MatMul, type, isa)
            ->Unit(benchmark::kMillisecond);
      }
    }
    // BF16 is no lab format, but a model's 16-bit original may be stored in it.
    if (isa != CpuIsa::kScalar) {
      benchmark::RegisterBenchmark(("MatMul/bf16/" + std::string(IsaName(isa))).c_str(), BM_MatMul,
                                   GgmlType::kBF16, isa)
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (GgmlType type : kLabTypes) {
    benchmark::RegisterBenchmark(("MatVec2T/" + std::string(TypeName(type))).c_str(), BM_MatVec2T, type)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("ReadBandwidth", BM_ReadBandwidth, 1)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("ReadBandwidth2T", BM_ReadBandwidth, 2)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  return true;
}();

}  // namespace
}  // namespace quantlab
