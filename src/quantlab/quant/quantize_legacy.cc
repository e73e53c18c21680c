#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// The 32-element formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1: ggml's reference quantizers (one scale
// from the block's extreme values) and the importance-weighted searches llama-quantize uses with an
// imatrix.

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

// ggml converts the biased, scaled value straight to a (u)int8 with C's truncating conversion: on x86
// that is a 32-bit truncation whose low byte is kept. Going through int32 explicitly gives the same
// byte for every input, including the out-of-range ones that tiny scales (id = inf) produce.
inline int TruncToInt8(float v) { return static_cast<int8_t>(static_cast<int32_t>(v)); }
inline int TruncToUint8(float v) { return static_cast<uint8_t>(static_cast<int32_t>(v)); }

// Element of largest magnitude, with its sign (the first one on ties).
inline float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// Largest |x| (ggml's MAX(amax, fabsf(v)) reduction).
inline float AbsMax(const float* x, int n) {
  float amax = 0.0f;
  for (int j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;
  }
  return amax;
}

inline void MinMax(const float* x, int n, float* min_out, float* max_out) {
  float min = FLT_MAX;
  float max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  *min_out = min;
  *max_out = max;
}

// 5-bit levels: low nibbles of elements j and j + 16 share qs[j]; the fifth bits go to bit j of qh.
inline void PackFiveBit(const uint8_t* levels, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    const uint8_t lo = levels[j];
    const uint8_t hi = levels[j + 16];
    qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
    qh |= ((lo & 0x10u) >> 4) << j;
    qh |= ((hi & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

// Importance weights of the legacy formats: w = importance * sqrt(sigma^2 + x^2), with sigma^2 the
// mean square of the whole row.
inline float RowMeanSquare(const float* x, int64_t n_per_row) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n_per_row; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / n_per_row;
}

inline void BlockWeights(const float* xb, const float* importance, float sigma2, float* weights) {
  for (int j = 0; j < 32; ++j) weights[j] = importance[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

}  // namespace

void QuantizeQ4_0Ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(y);
  for (int64_t i = 0; i < n / kQK4_0; ++i, x += kQK4_0) {
    // Scale chosen so the extreme element maps to -8, the level with no positive counterpart.
    const float d = SignedAbsMax(x, kQK4_0) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    blocks[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const uint8_t lo = static_cast<uint8_t>(std::min(15, TruncToInt8(x[j] * id + 8.5f)));
      const uint8_t hi = static_cast<uint8_t>(std::min(15, TruncToInt8(x[j + 16] * id + 8.5f)));
      blocks[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void QuantizeQ4_1Ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(y);
  for (int64_t i = 0; i < n / kQK4_1; ++i, x += kQK4_1) {
    float min, max;
    MinMax(x, kQK4_1, &min, &max);
    const float d = (max - min) / 15;
    const float id = d ? 1.0f / d : 0.0f;
    blocks[i].d = Fp32ToFp16(d);
    blocks[i].m = Fp32ToFp16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const uint8_t lo = static_cast<uint8_t>(std::min(15, TruncToInt8((x[j] - min) * id + 0.5f)));
      const uint8_t hi = static_cast<uint8_t>(std::min(15, TruncToInt8((x[j + 16] - min) * id + 0.5f)));
      blocks[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void QuantizeQ5_0Ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(y);
  uint8_t levels[kQK5_0];
  for (int64_t i = 0; i < n / kQK5_0; ++i, x += kQK5_0) {
    const float d = SignedAbsMax(x, kQK5_0) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    blocks[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK5_0; ++j) {
      levels[j] = static_cast<uint8_t>(std::min(31, TruncToInt8(x[j] * id + 16.5f)));
    }
    PackFiveBit(levels, blocks[i].qs, blocks[i].qh);
  }
}

void QuantizeQ5_1Ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(y);
  uint8_t levels[kQK5_1];
  for (int64_t i = 0; i < n / kQK5_1; ++i, x += kQK5_1) {
    float min, max;
    MinMax(x, kQK5_1, &min, &max);
    const float d = (max - min) / 31;
    const float id = d ? 1.0f / d : 0.0f;
    blocks[i].d = Fp32ToFp16(d);
    blocks[i].m = Fp32ToFp16(min);
    // No clamp to 31 here (ggml has none): the pack keeps five bits of whatever the conversion gave.
    for (int j = 0; j < kQK5_1; ++j) levels[j] = static_cast<uint8_t>(TruncToUint8((x[j] - min) * id + 0.5f));
    PackFiveBit(levels, blocks[i].qs, blocks[i].qh);
  }
}

void QuantizeQ8_0Ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(y);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    const float d = AbsMax(x, kQK8_0) / 127;
    const float id = d ? 1.0f / d : 0.0f;
    blocks[i].d = Fp32ToFp16(d);
    // roundf (ties away from zero), not nearest_int, as ggml does for this format. Rounded into a local
    // array first: stores through `blocks` may alias `x` as far as the compiler knows.
    int8_t q[kQK8_0];
    for (int j = 0; j < kQK8_0; ++j) q[j] = static_cast<int8_t>(RoundHalfAwayFromZero(x[j] * id));
    std::memcpy(blocks[i].qs, q, sizeof(q));
  }
}

void QuantizeQ8_1Ref(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_1*>(y);
  for (int64_t i = 0; i < n / kQK8_1; ++i, x += kQK8_1) {
    const float d = AbsMax(x, kQK8_1) / 127;
    const float id = d ? 1.0f / d : 0.0f;
    blocks[i].d = Fp32ToFp16(d);
    int8_t q[kQK8_1];
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      q[j] = static_cast<int8_t>(RoundHalfAwayFromZero(x[j] * id));
      sum += q[j];
    }
    std::memcpy(blocks[i].qs, q, sizeof(q));
    // s = d * sum(q), with the unrounded float d (the stored d is its fp16 rounding).
    blocks[i].s = Fp32ToFp16(sum * d);
  }
}

void QuantizeQ4_0Weighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  if (!importance) return QuantizeQ4_0Ref(x, y, n_per_row);
  auto* blocks = static_cast<BlockQ4_0*>(y);
  const float sigma2 = RowMeanSquare(x, n_per_row);
  float weights[kQK4_0];
  int8_t levels[kQK4_0];
  for (int64_t ib = 0; ib < n_per_row / kQK4_0; ++ib) {
    const float* xb = x + kQK4_0 * ib;
    BlockWeights(xb, importance + kQK4_0 * ib, sigma2, weights);
    const float d = SearchSymmetricScale<kQK4_0, 8>(xb, levels, 1, weights);
    blocks[ib].d = Fp32ToFp16(d);
    for (int j = 0; j < 16; ++j) blocks[ib].qs[j] = static_cast<uint8_t>(levels[j] | (levels[j + 16] << 4));
  }
}

void QuantizeQ4_1Weighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  if (!importance) return QuantizeQ4_1Ref(x, y, n_per_row);
  auto* blocks = static_cast<BlockQ4_1*>(y);
  const float sigma2 = RowMeanSquare(x, n_per_row);
  float weights[kQK4_1];
  uint8_t levels[kQK4_1], scratch[kQK4_1];
  for (int64_t ib = 0; ib < n_per_row / kQK4_1; ++ib) {
    const float* xb = x + kQK4_1 * ib;
    BlockWeights(xb, importance + kQK4_1 * ib, sigma2, weights);
    float neg_min;
    const float d =
        SearchScaleMinWeighted<kQK4_1>(15, xb, weights, levels, &neg_min, scratch, -0.9f, 0.05f, 36, false);
    blocks[ib].d = Fp32ToFp16(d);
    blocks[ib].m = Fp32ToFp16(-neg_min);
    for (int j = 0; j < 16; ++j) blocks[ib].qs[j] = static_cast<uint8_t>(levels[j] | (levels[j + 16] << 4));
  }
}

void QuantizeQ5_0Weighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  if (!importance) return QuantizeQ5_0Ref(x, y, n_per_row);
  auto* blocks = static_cast<BlockQ5_0*>(y);
  const float sigma2 = RowMeanSquare(x, n_per_row);
  float weights[kQK5_0];
  int8_t levels[kQK5_0];
  uint8_t ulevels[kQK5_0];
  for (int64_t ib = 0; ib < n_per_row / kQK5_0; ++ib) {
    const float* xb = x + kQK5_0 * ib;
    BlockWeights(xb, importance + kQK5_0 * ib, sigma2, weights);
    const float d = SearchSymmetricScale<kQK5_0, 16>(xb, levels, 1, weights);
    blocks[ib].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK5_0; ++j) ulevels[j] = static_cast<uint8_t>(levels[j]);
    PackFiveBit(ulevels, blocks[ib].qs, blocks[ib].qh);
  }
}

void QuantizeQ5_1Weighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  if (!importance) return QuantizeQ5_1Ref(x, y, n_per_row);
  auto* blocks = static_cast<BlockQ5_1*>(y);
  const float sigma2 = RowMeanSquare(x, n_per_row);
  float weights[kQK5_1];
  uint8_t levels[kQK5_1], scratch[kQK5_1];
  for (int64_t ib = 0; ib < n_per_row / kQK5_1; ++ib) {
    const float* xb = x + kQK5_1 * ib;
    BlockWeights(xb, importance + kQK5_1 * ib, sigma2, weights);
    float neg_min;
    const float d =
        SearchScaleMinWeighted<kQK5_1>(31, xb, weights, levels, &neg_min, scratch, -0.9f, 0.05f, 36, false);
    blocks[ib].d = Fp32ToFp16(d);
    blocks[ib].m = Fp32ToFp16(-neg_min);
    PackFiveBit(levels, blocks[ib].qs, blocks[ib].qh);
  }
}

}  // namespace quantlab::quant_internal
