// Helpers for the kernel tests: random weight rows (random bits with sane scale fields, so every quant
// bit pattern is exercised), activation rows, byte buffers at a chosen misalignment, and tolerances.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "quantlab/gguf/types.h"
#include "quantlab/kernels/kernels.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/util/fp16.h"

namespace quantlab::testing {

// The weight types with a dot-product kernel.
inline std::vector<GgmlType> DotTypes() {
  return {GgmlType::kF32,     GgmlType::kF16,   GgmlType::kBF16,  GgmlType::kQ4_0,    GgmlType::kQ4_1,
          GgmlType::kQ5_0,    GgmlType::kQ5_1,  GgmlType::kQ8_0,  GgmlType::kQ2_K,    GgmlType::kQ3_K,
          GgmlType::kQ4_K,    GgmlType::kQ5_K,  GgmlType::kQ6_K,  GgmlType::kIQ4_NL,  GgmlType::kIQ4_XS,
          GgmlType::kIQ3_XXS, GgmlType::kIQ3_S, GgmlType::kIQ2_S, GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS,
          GgmlType::kIQ1_S,   GgmlType::kIQ1_M};
}

// A byte buffer whose data() is `misalign` bytes past a 64-byte boundary.
class Buffer {
 public:
  Buffer(size_t size, size_t misalign) : storage_(size + 128), size_(size) {
    const auto base = reinterpret_cast<uintptr_t>(storage_.data());
    offset_ = ((64 - base % 64) % 64) + misalign;
  }
  uint8_t* data() { return storage_.data() + offset_; }
  const uint8_t* data() const { return storage_.data() + offset_; }
  size_t size() const { return size_; }

 private:
  std::vector<uint8_t> storage_;
  size_t size_;
  size_t offset_;
};

// The alignment rows of `type` are guaranteed in memory: GGUF tensor data is 32-byte aligned and every
// row is a whole number of blocks, so a row keeps its block struct's alignment (2 for the fp16-scaled
// blocks, 4 for F32 and Q8_K). Tests misalign buffers by multiples of this, never below it.
inline size_t RowAlignment(GgmlType type) {
  return (type == GgmlType::kF32 || type == GgmlType::kQ8_K) ? 4 : 2;
}

inline std::vector<float> RandomFloats(int64_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

inline fp16_t RandomScale(std::mt19937& rng, float lo, float hi) {
  return Fp32ToFp16(std::uniform_real_distribution<float>(lo, hi)(rng));
}

template <typename Block>
void FixBlocks(uint8_t* data, int64_t n_blocks, auto fix) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    Block block;
    std::memcpy(&block, data + b * sizeof(Block), sizeof(Block));
    fix(block);
    std::memcpy(data + b * sizeof(Block), &block, sizeof(Block));
  }
}

// Fills `dst` with a random weight row of n elements of `type`: random quant bits, scales in a range
// that keeps products finite, Q8_0 values in [-127, 127] as the quantizer produces.
inline void RandomWeightRow(GgmlType type, int64_t n, std::mt19937& rng, uint8_t* dst) {
  const size_t bytes = RowBytes(type, n);
  if (type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16) {
    const std::vector<float> x = RandomFloats(n, rng);
    for (int64_t i = 0; i < n; ++i) {
      if (type == GgmlType::kF32) std::memcpy(dst + 4 * i, &x[i], 4);
      if (type == GgmlType::kF16) {
        const fp16_t h = Fp32ToFp16(x[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      if (type == GgmlType::kBF16) {
        const bf16_t h = Fp32ToBf16(x[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
    }
    return;
  }
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t i = 0; i < bytes; ++i) dst[i] = static_cast<uint8_t>(byte(rng));
  const int64_t nb = n / TypeInfo(type).block_size;
  auto d = [&] { return RandomScale(rng, -0.02f, 0.02f); };
  auto dmin = [&] { return RandomScale(rng, 0.0f, 0.02f); };
  switch (type) {
    case GgmlType::kQ4_0:
      FixBlocks<BlockQ4_0>(dst, nb, [&](BlockQ4_0& b) { b.d = d(); });
      break;
    case GgmlType::kQ4_1:
      FixBlocks<BlockQ4_1>(dst, nb, [&](BlockQ4_1& b) { b.d = d(), b.m = d(); });
      break;
    case GgmlType::kQ5_0:
      FixBlocks<BlockQ5_0>(dst, nb, [&](BlockQ5_0& b) { b.d = d(); });
      break;
    case GgmlType::kIQ4_NL:
      FixBlocks<BlockIQ4_NL>(dst, nb, [&](BlockIQ4_NL& b) { b.d = d(); });
      break;
    case GgmlType::kIQ4_XS:
      FixBlocks<BlockIQ4_XS>(dst, nb, [&](BlockIQ4_XS& b) { b.d = d(); });
      break;
    case GgmlType::kIQ3_XXS:
      FixBlocks<BlockIQ3_XXS>(dst, nb, [&](BlockIQ3_XXS& b) { b.d = d(); });
      break;
    case GgmlType::kIQ3_S:
      FixBlocks<BlockIQ3_S>(dst, nb, [&](BlockIQ3_S& b) { b.d = d(); });
      break;
    case GgmlType::kIQ2_S:
      FixBlocks<BlockIQ2_S>(dst, nb, [&](BlockIQ2_S& b) { b.d = d(); });
      break;
    case GgmlType::kIQ2_XXS:
      FixBlocks<BlockIQ2_XXS>(dst, nb, [&](BlockIQ2_XXS& b) { b.d = d(); });
      break;
    case GgmlType::kIQ2_XS:
      FixBlocks<BlockIQ2_XS>(dst, nb, [&](BlockIQ2_XS& b) { b.d = d(); });
      break;
    case GgmlType::kIQ1_S:
      FixBlocks<BlockIQ1_S>(dst, nb, [&](BlockIQ1_S& b) { b.d = d(); });
      break;
    case GgmlType::kIQ1_M:  // the fp16 scale lives in the top nibbles of the four scale words
      FixBlocks<BlockIQ1_M>(dst, nb, [&](BlockIQ1_M& b) {
        const fp16_t s = d();
        for (int i = 0; i < 4; ++i) {
          b.scales[2 * i + 1] =
              static_cast<uint8_t>((b.scales[2 * i + 1] & 0x0f) | (((s >> 4 * i) & 0xf) << 4));
        }
      });
      break;
    case GgmlType::kQ5_1:
      FixBlocks<BlockQ5_1>(dst, nb, [&](BlockQ5_1& b) { b.d = d(), b.m = d(); });
      break;
    case GgmlType::kQ8_0:
      FixBlocks<BlockQ8_0>(dst, nb, [&](BlockQ8_0& b) {
        b.d = d();
        for (int8_t& q : b.qs) q = q == -128 ? -127 : q;
      });
      break;
    case GgmlType::kQ2_K:
      FixBlocks<BlockQ2_K>(dst, nb, [&](BlockQ2_K& b) { b.d = d(), b.dmin = dmin(); });
      break;
    case GgmlType::kQ3_K:
      FixBlocks<BlockQ3_K>(dst, nb, [&](BlockQ3_K& b) { b.d = d(); });
      break;
    case GgmlType::kQ4_K:
      FixBlocks<BlockQ4_K>(dst, nb, [&](BlockQ4_K& b) { b.d = d(), b.dmin = dmin(); });
      break;
    case GgmlType::kQ5_K:
      FixBlocks<BlockQ5_K>(dst, nb, [&](BlockQ5_K& b) { b.d = d(), b.dmin = dmin(); });
      break;
    case GgmlType::kQ6_K:
      FixBlocks<BlockQ6_K>(dst, nb, [&](BlockQ6_K& b) { b.d = d(); });
      break;
    default:
      break;
  }
}

// sum_i |w_i * a_i| over the dequantized rows, in double: the scale of a dot's rounding error.
inline double AbsDotMagnitude(GgmlType type, const void* w, const void* a, int64_t n) {
  const TypeKernels* k = KernelsFor(type, CpuIsa::kScalar);
  std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  DequantizeRow(type, w, wf.data(), n);
  DequantizeRow(k->vec_dot_type, a, af.data(), n);
  double mag = 0;
  for (int64_t i = 0; i < n; ++i) mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
  return mag;
}

}  // namespace quantlab::testing
