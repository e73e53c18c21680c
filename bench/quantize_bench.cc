// Quantization throughput per format: source MB/s (float32 input bytes per second) for the reference
// path (no importance weights) and the importance-weighted path llama-quantize takes with an imatrix,
// plus dequantization. One thread; the quantize command runs one such loop per thread.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "quantlab/gguf/types.h"
#include "quantlab/quant/quantize.h"

namespace quantlab {
namespace {

constexpr int64_t kRows = 16;
constexpr int64_t kCols = 4096;

// Weight-like data (sigma 0.02 with some larger columns), deterministic.
const std::vector<float>& Weights() {
  static const std::vector<float> data = [] {
    std::vector<float> v(kRows * kCols);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < v.size(); ++i) {
      double g = 0;
      for (int k = 0; k < 4; ++k) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        g += static_cast<double>(s >> 11) * 0x1.0p-53;
      }
      const double col = (i % kCols) % 97 == 3 ? 0.2 : 0.02;
      v[i] = static_cast<float>((g - 2.0) * 1.7 * col);
    }
    return v;
  }();
  return data;
}

const std::vector<float>& Importance() {
  static const std::vector<float> data = [] {
    std::vector<float> v(kCols);
    for (int64_t i = 0; i < kCols; ++i) v[i] = 0.05f + static_cast<float>((i * 7919) % 101) / 10.0f;
    return v;
  }();
  return data;
}

void BM_Quantize(benchmark::State& state, GgmlType type, bool with_importance) {
  const auto& src = Weights();
  std::vector<uint8_t> dst(RowBytes(type, kCols) * kRows);
  const float* importance = with_importance ? Importance().data() : nullptr;
  for (auto _ : state) {
    benchmark::DoNotOptimize(QuantizeRows(type, src.data(), dst.data(), kRows, kCols, importance));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kRows * kCols * static_cast<int64_t>(sizeof(float)));
}

void BM_Dequantize(benchmark::State& state, GgmlType type) {
  const auto& src = Weights();
  std::vector<uint8_t> packed(RowBytes(type, kCols) * kRows);
  QuantizeRows(type, src.data(), packed.data(), kRows, kCols, nullptr);
  std::vector<float> out(kRows * kCols);
  for (auto _ : state) {
    DequantizeRow(type, packed.data(), out.data(), kRows * kCols);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kRows * kCols * static_cast<int64_t>(sizeof(float)));
}

void BM_QuantizeActivation(benchmark::State& state, GgmlType type) {
  const auto& src = Weights();
  std::vector<uint8_t> dst(RowBytes(type, kCols));
  const std::span<const float> row(src.data(), kCols);
  for (auto _ : state) {
    QuantizeRowReference(type, row, dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kCols * static_cast<int64_t>(sizeof(float)));
}

const GgmlType kStorageTypes[] = {GgmlType::kF16,  GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ4_0,
                                  GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ2_K,
                                  GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K};

bool HasImportancePath(GgmlType t) {
  return t != GgmlType::kF16 && t != GgmlType::kBF16 && t != GgmlType::kQ8_0;
}

[[maybe_unused]] const bool kRegistered = [] {
  for (GgmlType t : kStorageTypes) {
    const std::string name(TypeName(t));
    benchmark::RegisterBenchmark(("Quantize/" + name + "/ref").c_str(), BM_Quantize, t, false);
    if (HasImportancePath(t)) {
      benchmark::RegisterBenchmark(("Quantize/" + name + "/imatrix").c_str(), BM_Quantize, t, true);
    }
    benchmark::RegisterBenchmark(("Dequantize/" + name).c_str(), BM_Dequantize, t);
  }
  for (GgmlType t : {GgmlType::kQ8_0, GgmlType::kQ8_1, GgmlType::kQ8_K}) {
    benchmark::RegisterBenchmark(("QuantizeActivation/" + std::string(TypeName(t))).c_str(),
                                 BM_QuantizeActivation, t);
  }
  return true;
}();

}  // namespace
}  // namespace quantlab
