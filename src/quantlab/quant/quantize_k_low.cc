#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// The low-bit K-quants with 16-element sub-blocks: Q2_K (2-bit levels, 4-bit scale and min per
// sub-block) and Q3_K (3-bit levels split into 2 low bits + a high-bit mask, 6-bit signed scales).

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/k_scales.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

constexpr int kSubBlocks = kQK_K / 16;

// 2-bit levels: per 128 elements, byte l holds elements l, 32 + l, 64 + l, 96 + l at bits 0, 2, 4, 6.
// Used by Q2_K and (for the low 2 bits) Q3_K.
template <typename Level>
void PackTwoBit(const Level* levels, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(levels[j + l] | (levels[j + l + 32] << 2) |
                                           (levels[j + l + 64] << 4) | (levels[j + l + 96] << 6));
    }
  }
}

// Q2_K: with the stored scales fixed, re-rounds each element to the nearest of its sub-block's 4
// levels; sub-blocks whose scale is zero keep the search's levels.
void RequantizeQ2K(const float* x, float d_all, float dmin_all, const uint8_t* packed_scales,
                   uint8_t* levels) {
  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = d_all * (packed_scales[j] & 0xF);
    if (!d) continue;
    const float dm = dmin_all * (packed_scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt((x[16 * j + ii] + dm) / d);
      levels[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
    }
  }
}

// Q3_K, once the scales are stored: re-round to levels in [-4, 3] under each sub-block's scale, then
// split off the high bit into hmask (element j's bit goes to hmask[j % 32], bit j / 32) and pack the
// low 2 bits.
void FinishQ3K(const float* x, int8_t* levels, BlockQ3_K* block) {
  const float d_all = Fp16ToFp32(block->d);
  for (int j = 0; j < kSubBlocks; ++j) {
    const float d = d_all * GetScaleQ3K(j, block->scales);
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt(x[16 * j + ii] / d);
      levels[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
    }
  }
  std::memset(block->hmask, 0, sizeof(block->hmask));
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < kQK_K; ++j) {
    if (levels[j] > 3) {
      block->hmask[m] |= hm;
      levels[j] = static_cast<int8_t>(levels[j] - 4);
    }
    if (++m == kQK_K / 8) {
      m = 0;
      hm = static_cast<uint8_t>(hm << 1);
    }
  }
  PackTwoBit(levels, block->qs);
}

}  // namespace

void QuantizeQ2_KRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(y);
  uint8_t levels[kQK_K];
  uint8_t scratch[16];
  float weights[16];
  float mins[kSubBlocks];
  float scales[kSubBlocks];
  constexpr float kScaleLevels = 15.f;  // 4-bit scales and mins

  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    BlockQ2_K& b = blocks[i];
    float max_scale = 0;  // scales are positive: the min is subtracted
    float max_min = 0;
    for (int j = 0; j < kSubBlocks; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = SearchScaleMin<16>(3, x + 16 * j, weights, levels + 16 * j, &mins[j], scratch, -0.5f, 0.1f,
                                     15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = kScaleLevels / max_scale;
      for (int j = 0; j < kSubBlocks; ++j) b.scales[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
      b.d = Fp32ToFp16(max_scale / kScaleLevels);
    } else {
      std::memset(b.scales, 0, sizeof(b.scales));
      b.d = Fp32ToFp16(0.f);
    }
    if (max_min > 0) {
      const float iscale = kScaleLevels / max_min;
      for (int j = 0; j < kSubBlocks; ++j) {
        b.scales[j] = static_cast<uint8_t>(b.scales[j] | (NearestInt(iscale * mins[j]) << 4));
      }
      b.dmin = Fp32ToFp16(max_min / kScaleLevels);
    } else {
      b.dmin = Fp32ToFp16(0.f);
    }
    RequantizeQ2K(x, Fp16ToFp32(b.d), Fp16ToFp32(b.dmin), b.scales, levels);
    PackTwoBit(levels, b.qs);
  }
}

void QuantizeQ2_KWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  if (!importance) return QuantizeQ2_KRef(x, y, n_per_row);
  auto* blocks = static_cast<BlockQ2_K*>(y);
  uint8_t levels[kQK_K];
  uint8_t scratch[16];
  float mins[kSubBlocks];
  float scales[kSubBlocks];
  float sub_weight[kSubBlocks];
  float weights[16];
  uint8_t scale_levels[kSubBlocks], min_levels[kSubBlocks];

  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K) {
    BlockQ2_K& b = blocks[i];
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = sumx2 / kQK_K;
    for (int j = 0; j < kSubBlocks; ++j) {
      const float* qw = importance + kQK_K * i + 16 * j;
      for (int l = 0; l < 16; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weights[l];
      sub_weight[j] = sumw;
      scales[j] = SearchScaleMinWeighted<16>(3, x + 16 * j, weights, levels + 16 * j, &mins[j], scratch,
                                             -0.9f, 0.05f, 36, false);
    }
    const float dm = SearchPositiveScale<kSubBlocks>(15, scales, scale_levels, sub_weight);
    const float mm = SearchPositiveScale<kSubBlocks>(15, mins, min_levels, sub_weight);
    b.d = Fp32ToFp16(dm);
    b.dmin = Fp32ToFp16(mm);
    for (int j = 0; j < kSubBlocks; ++j)
      b.scales[j] = static_cast<uint8_t>(scale_levels[j] | (min_levels[j] << 4));
    RequantizeQ2K(x, Fp16ToFp32(b.d), Fp16ToFp32(b.dmin), b.scales, levels);
    PackTwoBit(levels, b.qs);
  }
}

void QuantizeQ3_KRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(y);
  int8_t levels[kQK_K];
  float scales[kSubBlocks];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    BlockQ3_K& b = blocks[i];
    // The signed scale of largest magnitude; the others are stored relative to it in [-32, 31].
    float max_scale = 0;
    float amax = 0;
    for (int j = 0; j < kSubBlocks; ++j) {
      scales[j] = SearchSymmetricScaleIterative<16>(4, x + 16 * j, levels + 16 * j, true);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    std::memset(b.scales, 0, sizeof(b.scales));
    if (max_scale) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < kSubBlocks; ++j) {
        // ggml narrows to int8_t before clamping.
        const int8_t l = static_cast<int8_t>(NearestInt(iscale * scales[j]));
        SetScaleQ3K(j, std::max<int>(-32, std::min<int>(31, l)) + 32, b.scales);
      }
      b.d = Fp32ToFp16(1 / iscale);
    } else {
      b.d = Fp32ToFp16(0.f);
    }
    FinishQ3K(x, levels, &b);
  }
}

void QuantizeQ3_KWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  auto* blocks = static_cast<BlockQ3_K*>(y);
  int8_t levels[kQK_K];
  float scales[kSubBlocks];
  float weights[16];
  float sub_weight[kSubBlocks];
  int8_t scale_levels[kSubBlocks];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K) {
    BlockQ3_K& b = blocks[i];
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = 2 * sumx2 / kQK_K;
    for (int j = 0; j < kSubBlocks; ++j) {
      const float* xs = x + 16 * j;
      if (importance) {
        const float* qw = importance + kQK_K * i + 16 * j;
        for (int l = 0; l < 16; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + xs[l] * xs[l]);
      } else {
        for (int l = 0; l < 16; ++l) weights[l] = xs[l] * xs[l];
      }
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weights[l];
      sub_weight[j] = sumw;
      scales[j] = SearchSymmetricScale<16, 4>(xs, levels + 16 * j, 1, weights);
    }
    std::memset(b.scales, 0, sizeof(b.scales));
    // The 16 signed sub-block scales get their own symmetric 6-bit quantization (levels biased by 32).
    const float d_block = SearchSymmetricScale<kSubBlocks, 32>(scales, scale_levels, 1, sub_weight);
    for (int j = 0; j < kSubBlocks; ++j) SetScaleQ3K(j, scale_levels[j], b.scales);
    b.d = Fp32ToFp16(d_block);
    FinishQ3K(x, levels, &b);
  }
}

}  // namespace quantlab::quant_internal
