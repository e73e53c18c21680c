#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// IQ4_NL: 32-element blocks of 4-bit indices into a fixed non-linear table of 16 levels, one F16 scale
// per block. ggml's quantizer (quantize_row_iq4_nl_impl with one 32-element block per super-block):
// start from the scale that maps the extreme element onto the table's end, try 15 nearby inverse scales,
// keep the weighted least-squares scale with the best fit, then re-assign each element the level nearest
// to it under that scale. Weights are x^2 without an importance matrix, importance * sqrt(sigma^2 + x^2)
// with one (sigma^2 = twice the block's mean square).

#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/iq4_block_scale.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

static_assert(kQK4_NL == kIq4BlockSize);

void QuantizeBlock(const float* x, const float* importance, BlockIQ4_NL* out) {
  float weight[kQK4_NL];
  uint8_t levels[kQK4_NL];
  float sigma2 = 0;
  for (int j = 0; j < kQK4_NL; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / kQK4_NL;
  for (int j = 0; j < kQK4_NL; ++j) {
    weight[j] = importance != nullptr ? importance[j] * std::sqrt(sigma2 + x[j] * x[j]) : x[j] * x[j];
  }

  const float scale = Iq4BlockScale(x, weight);
  out->d = Fp32ToFp16(scale);
  const float id = scale ? 1 / scale : 0.f;
  for (int j = 0; j < kQK4_NL; ++j) levels[j] = static_cast<uint8_t>(NearestIq4nlLevel(id * x[j]));
  for (int j = 0; j < kQK4_NL / 2; ++j) out->qs[j] = static_cast<uint8_t>(levels[j] | (levels[j + 16] << 4));
}

}  // namespace

void QuantizeIQ4_NLRef(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockIQ4_NL*>(y);
  for (int64_t i = 0; i < n / kQK4_NL; ++i) QuantizeBlock(x + i * kQK4_NL, nullptr, &blocks[i]);
}

void QuantizeIQ4_NLWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  auto* blocks = static_cast<BlockIQ4_NL*>(y);
  for (int64_t i = 0; i < n_per_row / kQK4_NL; ++i) {
    QuantizeBlock(x + i * kQK4_NL, importance != nullptr ? importance + i * kQK4_NL : nullptr, &blocks[i]);
  }
}

void DequantizeIQ4_NL(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ4_NL*>(x);
  for (int64_t i = 0; i < n / kQK4_NL; ++i, y += kQK4_NL) {
    const float d = Fp16ToFp32(blocks[i].d);
    for (int j = 0; j < kQK4_NL / 2; ++j) {
      y[j] = d * kIq4nlValues[blocks[i].qs[j] & 0xF];
      y[j + 16] = d * kIq4nlValues[blocks[i].qs[j] >> 4];
    }
  }
}

}  // namespace quantlab::quant_internal
