#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// IQ2_S: each 8-element group of a 16-element block is a point of a 1024-point lattice (iq2_grids.h)
// times the block scale, with one stored sign per element. ggml's quantizer (quantize_row_iq2_s_impl in
// ggml-quants.c) is the IQ3 search (quantize_iq3.cc) with levels in [0, 2]:
//   1. weights: 0.25 sigma^2 + x^2 without an importance matrix, importance * sqrt(sigma^2 + x^2) with
//      one (sigma^2 twice the mean square of the 256-element super-block);
//   2. for inverse scales id = (5 + 0.1 is) / max|x|, is in [-9, 9]: levels round((id |x| - 1) / 2) in
//      [0, 2], off-grid groups replaced by their nearest grid point (Iq2S lattice) at scale 1 / id; the
//      weighted least-squares fit kept when it improves;
//   3. off-grid groups of the best try quantized again at the fitted scale, the scale refitted;
//   4. d = max block scale / 31, stored times 0.9875; 4-bit block scales round((scale / d - 1) / 2).
// The llama.cpp recipes IQ3_XXS (attn_q, attn_k) and IQ2_M (its default) use it, always with an importance
// matrix.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/grid_lattice.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq2_search.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

constexpr int kBlock = 16;
constexpr int kBlocks = kQK_K / kBlock;
using iq2_search::kMaxQ;

void QuantizeRow(const float* x, BlockIQ2_S* y, int64_t n, const float* importance) {
  const GridLattice& lattice = GridLattice::Iq2S();
  int8_t levels[kBlock] = {};  // ggml keeps L across blocks (see quantize_iq3.cc's BlockState)
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    BlockIQ2_S& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    float sumx2 = 0;
    for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
    const float sigma2 = 2 * sumx2 / kQK_K;
    float scales[kBlocks];
    float max_scale = 0;
    for (int ib = 0; ib < kBlocks; ++ib) {
      const float* xb = xbl + kBlock * ib;
      float weight[kBlock], waux[kBlock], xval[kBlock];
      for (int i = 0; i < kBlock; ++i) {
        weight[i] = importance != nullptr
                        ? importance[kQK_K * ibl + kBlock * ib + i] * std::sqrt(sigma2 + xb[i] * xb[i])
                        : 0.25f * sigma2 + xb[i] * xb[i];
      }
      for (int i = 0; i < kBlock; ++i) waux[i] = std::sqrt(weight[i]);
      uint8_t signs[2];
      for (int k = 0; k < 2; ++k) {
        uint8_t s = 0;
        for (int i = 0; i < 8; ++i) {
          const float v = xb[8 * k + i];
          xval[8 * k + i] = v >= 0 ? v : -v;
          if (!(v >= 0)) s = static_cast<uint8_t>(s | (1 << i));
        }
        signs[k] = s;
      }
      float max = xval[0];
      for (int i = 1; i < kBlock; ++i) max = max > xval[i] ? max : xval[i];
      if (max < 1e-8f) {
        scales[ib] = 0;
        continue;
      }
      float scale = iq2_search::SearchBlock16(lattice, xval, waux, weight, max, levels);
      if (scale < 0) {
        scale = -scale;
        for (auto& s : signs) s = static_cast<uint8_t>(~s);
      }
      for (int k = 0; k < 2; ++k) {
        const int index = lattice.IndexOf(lattice.CodeOf(levels + 8 * k));
        QL_CHECK_MSG(index >= 0, "iq2_s: a searched group is off the grid");
        const int i8 = 2 * ib + k;
        out.qs[i8] = static_cast<uint8_t>(index & 255);
        out.qh[i8 / 4] = static_cast<uint8_t>(out.qh[i8 / 4] | ((index >> 8) << 2 * (i8 % 4)));
        out.qs[kQK_K / 8 + i8] = signs[k];
      }
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    if (max_scale == 0) continue;
    const float d = max_scale / 31;
    out.d = Fp32ToFp16(d * 0.9875f);
    const float id = 1 / d;
    for (int ib = 0; ib < kBlocks; ++ib) {
      const int l = std::max(0, std::min(15, NearestInt(0.5f * (id * scales[ib] - 1))));
      out.scales[ib / 2] = static_cast<uint8_t>(ib % 2 == 0 ? l : out.scales[ib / 2] | (l << 4));
    }
  }
}

}  // namespace

void QuantizeIQ2_SRef(const float* x, void* y, int64_t n) {
  QuantizeRow(x, static_cast<BlockIQ2_S*>(y), n, nullptr);
}

void QuantizeIQ2_SWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QuantizeRow(x, static_cast<BlockIQ2_S*>(y), n_per_row, importance);
}

void DequantizeIQ2_S(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ2_S*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ2_S& blk = blocks[b];
    const float d = Fp16ToFp32(blk.d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + static_cast<float>(blk.scales[ib32] & 0xf)) * 0.25f,
                           d * (0.5f + static_cast<float>(blk.scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const int g = 4 * ib32 + l;
        const int index = blk.qs[g] | (((blk.qh[ib32] >> 2 * l) & 3) << 8);
        const uint8_t signs = blk.qs[kQK_K / 8 + g];
        for (int j = 0; j < 8; ++j) {
          const float value = db[l / 2] * static_cast<float>((iq2::kSGrid[index] >> 8 * j) & 0xff);
          y[j] = value * ((signs >> j) & 1 ? -1.f : 1.f);
        }
      }
    }
  }
}

}  // namespace quantlab::quant_internal
