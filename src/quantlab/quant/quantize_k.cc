#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// The K-quants with 32-element sub-blocks (Q4_K, Q5_K: scale and min per sub-block, 6 bits each), Q6_K
// (16-element sub-blocks, 8-bit scales) and the activation format Q8_K: ggml's reference quantizers and
// the importance-weighted versions.

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

constexpr int kSubBlocks32 = kQK_K / 32;  // sub-blocks of 32 in a Q4_K/Q5_K super-block
constexpr int kSubBlocks16 = kQK_K / 16;  // sub-blocks of 16 in a Q6_K super-block

// Reference path of Q4_K/Q5_K: per sub-block (scale, min) search weighted by rms + |x|, then the scales
// and mins quantized to 6 bits against their maxima. Writes d, dmin, the packed scales and returns
// the unpacked levels in `levels` (to be re-derived by RequantizeScaleMin).
template <typename Block>
void ScaleMinRef(const float* x, int nmax, float rmin, float rdelta, int nstep, Block* block,
                 uint8_t* levels) {
  float weights[32];
  uint8_t scratch[32];
  float mins[kSubBlocks32];
  float scales[kSubBlocks32];
  float max_scale = 0;  // scales are positive: the min is subtracted
  float max_min = 0;
  for (int j = 0; j < kSubBlocks32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] =
        SearchScaleMin<32>(nmax, xs, weights, levels + 32 * j, &mins[j], scratch, rmin, rdelta, nstep, false);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kSubBlocks32; ++j) {
    // The int -> uint8_t truncation before the clamp is ggml's; it matters only for negative scales.
    uint8_t ls = static_cast<uint8_t>(NearestInt(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(NearestInt(inv_min * mins[j]));
    ls = std::min<uint8_t>(63, ls);
    lm = std::min<uint8_t>(63, lm);
    SetScaleMinK4(j, ls, lm, block->scales);
  }
  block->d = Fp32ToFp16(max_scale / 63.f);
  block->dmin = Fp32ToFp16(max_min / 63.f);
}

// Importance path of Q4_K/Q5_K: per sub-block weighted search, then the 8 scales and 8 mins fitted
// with SearchPositiveScale weighted by each sub-block's total weight.
template <typename Block>
void ScaleMinWeighted(const float* x, const float* importance, int nmax, Block* block, uint8_t* levels) {
  float weights[32];
  uint8_t scratch[32];
  float mins[kSubBlocks32];
  float scales[kSubBlocks32];
  float sub_weight[kSubBlocks32];
  uint8_t scale_levels[kSubBlocks32];
  uint8_t min_levels[kSubBlocks32];

  float sum_x2 = 0;
  for (int l = 0; l < kQK_K; ++l) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / kQK_K;
  const float av_x = std::sqrt(sigma2);
  for (int j = 0; j < kSubBlocks32; ++j) {
    const float* xs = x + 32 * j;
    if (importance) {
      const float* qw = importance + 32 * j;
      for (int l = 0; l < 32; ++l) weights[l] = qw[l] * std::sqrt(sigma2 + xs[l] * xs[l]);
    } else {
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    }
    float sumw = 0;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sub_weight[j] = sumw;
    scales[j] = SearchScaleMinWeighted<32>(nmax, xs, weights, levels + 32 * j, &mins[j], scratch, -0.9f,
                                           0.05f, 36, false);
  }
  const float d_block = SearchPositiveScale<kSubBlocks32>(63, scales, scale_levels, sub_weight);
  const float m_block = SearchPositiveScale<kSubBlocks32>(63, mins, min_levels, sub_weight);
  for (int j = 0; j < kSubBlocks32; ++j) {
    SetScaleMinK4(j, std::min<uint8_t>(63, scale_levels[j]), std::min<uint8_t>(63, min_levels[j]),
                  block->scales);
  }
  block->d = Fp32ToFp16(d_block);
  block->dmin = Fp32ToFp16(m_block);
}

// With the stored (fp16, 6-bit) scales and mins fixed, re-rounds every element to the level nearest
// under them. Sub-blocks whose scale rounds to zero keep the levels of the search.
template <typename Block>
void RequantizeScaleMin(const float* x, int nmax, const Block& block, uint8_t* levels) {
  const float d_all = Fp16ToFp32(block.d);
  const float dmin_all = Fp16ToFp32(block.dmin);
  for (int j = 0; j < kSubBlocks32; ++j) {
    uint8_t sc, m;
    GetScaleMinK4(j, block.scales, &sc, &m);
    const float d = d_all * sc;
    if (!d) continue;
    const float dm = dmin_all * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = NearestInt((x[32 * j + ii] + dm) / d);
      levels[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// Q4_K nibbles: each 64-element chunk stores element l in the low nibble of byte l and element 32 + l in
// the high nibble.
void PackQ4K(const uint8_t* levels, BlockQ4_K* block) {
  uint8_t* q = block->qs;
  for (int j = 0; j < kQK_K; j += 64, q += 32) {
    for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(levels[j + l] | (levels[j + l + 32] << 4));
  }
}

// Q5_K: as Q4_K for the low 4 bits; the fifth bit of chunk c's first half goes to bit 2c of qh[l], of
// its second half to bit 2c + 1.
void PackQ5K(const uint8_t* levels, BlockQ5_K* block) {
  uint8_t* qh = block->qh;
  uint8_t* ql = block->qs;
  std::memset(qh, 0, kQK_K / 8);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < kQK_K; n += 64, ql += 32) {
    for (int j = 0; j < 32; ++j) {
      int l1 = levels[n + j];
      if (l1 > 15) {
        l1 -= 16;
        qh[j] |= m1;
      }
      int l2 = levels[n + j + 32];
      if (l2 > 15) {
        l2 -= 16;
        qh[j] |= m2;
      }
      ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
    m1 = static_cast<uint8_t>(m1 << 2);
    m2 = static_cast<uint8_t>(m2 << 2);
  }
}

// Q6_K, from the 16 sub-block scales found by the search (`scales`) and the levels: 8-bit scales
// against the largest, then re-rounding under the stored scales, then packing. A block whose scales are
// all ~0 is stored as all zeros.
void FinishQ6K(const float* x, const float* scales, float max_scale, float max_abs_scale, int8_t* levels,
               BlockQ6_K* block) {
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(block, 0, sizeof(*block));
    block->d = Fp32ToFp16(0.f);
    return;
  }
  const float iscale = -128.f / max_scale;
  block->d = Fp32ToFp16(1 / iscale);
  for (int ib = 0; ib < kSubBlocks16; ++ib) {
    block->scales[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
  }
  const float d_all = Fp16ToFp32(block->d);
  for (int j = 0; j < kSubBlocks16; ++j) {
    const float d = d_all * block->scales[j];
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt(x[16 * j + ii] / d);
      levels[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
    }
  }
  // Per 128 elements: low nibbles of elements l, 32 + l, 64 + l, 96 + l in ql[l] / ql[32 + l] (low, high
  // nibble pairs 0/64 and 32/96), their top 2 bits in qh[l] at bits 0, 2, 4, 6.
  uint8_t* ql = block->ql;
  uint8_t* qh = block->qh;
  for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t* L = reinterpret_cast<const uint8_t*>(levels) + j + l;
      ql[l] = static_cast<uint8_t>((L[0] & 0xF) | ((L[64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((L[32] & 0xF) | ((L[96] & 0xF) << 4));
      qh[l] =
          static_cast<uint8_t>((L[0] >> 4) | ((L[32] >> 4) << 2) | ((L[64] >> 4) << 4) | ((L[96] >> 4) << 6));
    }
  }
}

void QuantizeQ6KBlock(const float* x, const float* importance, BlockQ6_K* block) {
  int8_t levels[kQK_K];
  float scales[kSubBlocks16];
  float max_scale = 0;
  float max_abs_scale = 0;
  for (int ib = 0; ib < kSubBlocks16; ++ib) {
    // With an imatrix, Q6_K weights the fit by the raw importance (no sigma term, unlike the others).
    const float scale = SearchSymmetricScale<16, 32>(x + 16 * ib, levels + 16 * ib, 1,
                                                     importance ? importance + 16 * ib : nullptr);
    scales[ib] = scale;
    const float abs_scale = std::fabs(scale);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scale;
    }
  }
  FinishQ6K(x, scales, max_scale, max_abs_scale, levels, block);
}

}  // namespace

void QuantizeQ4_KRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(y);
  uint8_t levels[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    ScaleMinRef(x, 15, -1.f, 0.1f, 20, &blocks[i], levels);
    RequantizeScaleMin(x, 15, blocks[i], levels);
    PackQ4K(levels, &blocks[i]);
  }
}

void QuantizeQ4_KWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  auto* blocks = static_cast<BlockQ4_K*>(y);
  uint8_t levels[kQK_K];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K) {
    ScaleMinWeighted(x, importance ? importance + kQK_K * i : nullptr, 15, &blocks[i], levels);
    RequantizeScaleMin(x, 15, blocks[i], levels);
    PackQ4K(levels, &blocks[i]);
  }
}

void QuantizeQ5_KRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(y);
  uint8_t levels[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    ScaleMinRef(x, 31, -0.5f, 0.1f, 15, &blocks[i], levels);
    RequantizeScaleMin(x, 31, blocks[i], levels);
    PackQ5K(levels, &blocks[i]);
  }
}

void QuantizeQ5_KWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  auto* blocks = static_cast<BlockQ5_K*>(y);
  uint8_t levels[kQK_K];
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K) {
    ScaleMinWeighted(x, importance ? importance + kQK_K * i : nullptr, 31, &blocks[i], levels);
    RequantizeScaleMin(x, 31, blocks[i], levels);
    PackQ5K(levels, &blocks[i]);
  }
}

void QuantizeQ6_KRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(y);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) QuantizeQ6KBlock(x, nullptr, &blocks[i]);
}

void QuantizeQ6_KWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  auto* blocks = static_cast<BlockQ6_K*>(y);
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i, x += kQK_K) {
    QuantizeQ6KBlock(x, importance ? importance + kQK_K * i : nullptr, &blocks[i]);
  }
}

void QuantizeQ8_KRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_K*>(y);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    BlockQ8_K& b = blocks[i];
    float max = 0;
    float amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (!amax) {
      b.d = 0;
      std::memset(b.qs, 0, sizeof(b.qs));
      // ggml leaves bsums untouched here; quantlab zeroes them so the output never depends on what the
      // buffer held (identical to ggml's bytes whenever its buffer started zeroed).
      std::memset(b.bsums, 0, sizeof(b.bsums));
      continue;
    }
    // -127 rather than -128 keeps every level within [-127, 127] (symmetric), which the SIMD dot
    // products of some formats rely on.
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) b.qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += b.qs[j * 16 + ii];
      b.bsums[j] = static_cast<int16_t>(sum);
    }
    b.d = 1 / iscale;
  }
}

}  // namespace quantlab::quant_internal
