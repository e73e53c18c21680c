#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// IQ4_XS: IQ4_NL's non-linear 16-level table on 256-element super-blocks of eight 32-element blocks, each
// block with a 6-bit signed scale relative to one F16 super-block scale. ggml's quantizer
// (quantize_row_iq4_nl_impl with super_block_size 256, block_size 32, 7 tries), in two passes:
//   1. per block, the weighted least-squares scale searched as for IQ4_NL (start from the scale that
//      maps the extreme element onto the table's end, try 15 nearby inverse scales); weights are x^2
//      without an importance matrix, importance * sqrt(sigma^2 + x^2) with one, where sigma^2 is twice
//      the mean square of the whole super-block;
//   2. the super-block scale d = -(the block scale of largest magnitude) / 32 (in float, not rounded to
//      F16 for what follows); each block scale becomes l = round(scale / d) clamped to [-32, 31], and
//      each element the level nearest to x / (d * l).

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/iq4_block_scale.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

constexpr int kBlock = kIq4BlockSize;
constexpr int kBlocks = kQK_K / kBlock;

void QuantizeSuperBlock(const float* x, const float* importance, BlockIQ4_XS* out) {
  float sigma2 = 0;
  for (int j = 0; j < kQK_K; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / kQK_K;

  float scales[kBlocks];
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < kBlocks; ++ib) {
    const float* xb = x + ib * kBlock;
    float weight[kBlock];
    for (int j = 0; j < kBlock; ++j) {
      weight[j] = importance != nullptr ? importance[ib * kBlock + j] * std::sqrt(sigma2 + xb[j] * xb[j])
                                        : xb[j] * xb[j];
    }
    scales[ib] = Iq4BlockScale(xb, weight);
    const float abs_d = std::fabs(scales[ib]);
    if (abs_d > amax_scale) {
      amax_scale = abs_d;
      max_scale = scales[ib];
    }
  }

  uint8_t levels[kQK_K];
  const float d = -max_scale / 32;
  out->d = Fp32ToFp16(d);
  out->scales_h = 0;
  std::memset(out->scales_l, 0, sizeof(out->scales_l));
  const float id = d != 0 ? 1 / d : 0.f;
  for (int ib = 0; ib < kBlocks; ++ib) {
    int l = std::clamp(NearestInt(id * scales[ib]), -32, 31);
    const float dl = d * l;
    const float idl = dl != 0 ? 1 / dl : 0.f;
    for (int j = 0; j < kBlock; ++j)
      levels[ib * kBlock + j] = static_cast<uint8_t>(NearestIq4nlLevel(idl * x[ib * kBlock + j]));
    l += 32;
    out->scales_l[ib / 2] |= static_cast<uint8_t>((l & 0xf) << 4 * (ib % 2));
    out->scales_h |= static_cast<uint16_t>((l >> 4) << 2 * ib);
  }
  for (int ib = 0; ib < kBlocks; ++ib) {
    for (int j = 0; j < 16; ++j) {
      out->qs[16 * ib + j] =
          static_cast<uint8_t>(levels[kBlock * ib + j] | (levels[kBlock * ib + 16 + j] << 4));
    }
  }
}

}  // namespace

void QuantizeIQ4_XSRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_XS*>(y);
  for (int64_t i = 0; i < n / kQK_K; ++i) QuantizeSuperBlock(x + i * kQK_K, nullptr, &blocks[i]);
}

void QuantizeIQ4_XSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  auto* blocks = static_cast<BlockIQ4_XS*>(y);
  for (int64_t i = 0; i < n_per_row / kQK_K; ++i) {
    QuantizeSuperBlock(x + i * kQK_K, importance != nullptr ? importance + i * kQK_K : nullptr, &blocks[i]);
  }
}

void DequantizeIQ4_XS(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_XS*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const BlockIQ4_XS& b = blocks[i];
    const float d = Fp16ToFp32(b.d);
    for (int ib = 0; ib < kBlocks; ++ib, y += kBlock) {
      const int ls = ((b.scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((b.scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      const uint8_t* qs = b.qs + 16 * ib;
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * kIq4nlValues[qs[j] & 0xf];
        y[j + 16] = dl * kIq4nlValues[qs[j] >> 4];
      }
    }
  }
}

}  // namespace quantlab::quant_internal
