#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// IQ2_XXS and IQ2_XS: each 8-element group is a point of a 256-point (IQ2_XXS) or 512-point (IQ2_XS)
// lattice (iq2_grids.h) times a block scale, with 7 stored signs per group (the eighth is the parity).
// ggml's quantizers (quantize_row_iq2_xxs_impl and quantize_row_iq2_xs_impl in ggml-quants.c) refuse to
// run without importance weights; both search one block at a time (32 elements for IQ2_XXS, 16 for
// IQ2_XS):
//   1. weights: importance * sqrt(sigma^2 + x^2), sigma^2 the mean square of the 256-element
//      super-block (not twice it, as in IQ2_S and IQ3);
//   2. signs are split off; a group of 8 with an odd number of negatives gets the sign of its element of
//      least w x^2 flipped (that element is then quantized as -|x|); blocks with max |x| < 1e-15 are zero;
//   3. IQ2_XXS: a first scale s from SearchPositiveScale (levels 0..4), then inverse scales
//      id = (5 + 0.1 is) / (3 s), is in [-6, 6]; IQ2_XS: id = (5 + 0.1 is) / max|x|, is in [-9, 9].
//      Levels round((id |x| - 1) / 2) in [0, 2], off-grid groups replaced by their best neighbour
//      (GridLattice, two distances) at scale 1 / id; the weighted least-squares fit kept when it improves;
//   4. IQ2_XXS requantizes every group at the fitted scale, IQ2_XS only those that were off the grid; the
//      scale is refitted;
//   5. d = max block scale / 31 (no fudge factor); 4-bit block scales round((scale / d - 1) / 2).
// Float operations keep ggml's order, so the bytes are ggml's.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/grid_lattice.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq2_search.h"
#include "quantlab/quant/iq3_grids.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

using iq2_search::Fit;
using iq2_search::kMaxQ;
using iq2_search::RoundOntoGrid;

// The grid index of a group of levels. The levels are always a grid point, except where ggml aborts
// ("found point not on grid": an IQ2_XXS block whose every try was rejected, which takes all-zero
// importance weights, keeps the first search's levels 0..4); quantlab writes grid point 0 there.
int GridIndex(const GridLattice& lattice, const int8_t* levels) {
  for (int i = 0; i < 8; ++i) {
    if (levels[i] < 0 || levels[i] >= kMaxQ) return 0;
  }
  return std::max(0, lattice.IndexOf(lattice.CodeOf(levels)));
}

// Steps 1 and 2 for one block of n elements: weights, |x| with the parity fix, the 7-bit sign codes;
// returns max |x| (of the sign-fixed values, as ggml).
template <int n>
float PrepareBlock(const float* xb, const float* qw, float sigma2, float* weight, float* waux, float* xval,
                   uint8_t* signs) {
  for (int i = 0; i < n; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
  for (int i = 0; i < n; ++i) waux[i] = std::sqrt(weight[i]);
  for (int k = 0; k < n / 8; ++k)
    signs[k] = static_cast<uint8_t>(SplitSigns8(xb + 8 * k, weight + 8 * k, true, xval + 8 * k) & 127);
  float max = xval[0];
  for (int i = 1; i < n; ++i) max = max > xval[i] ? max : xval[i];
  return max;
}

float Sigma2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
  return sumx2 / kQK_K;
}

int BlockScaleCode(float id, float scale) {
  return std::max(0, std::min(15, NearestInt(0.5f * (id * scale - 1))));
}

void QuantizeXxsRow(const float* x, BlockIQ2_XXS* y, int64_t n, const float* importance) {
  constexpr int kBlock = 32;
  constexpr int kBlocks = kQK_K / kBlock;
  const GridLattice& lattice = GridLattice::Iq2Xxs();
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    BlockIQ2_XXS& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    uint32_t q2[2 * kBlocks] = {};
    float scales[kBlocks];
    float max_scale = 0;
    const float sigma2 = Sigma2(xbl);
    for (int ib = 0; ib < kBlocks; ++ib) {
      float weight[kBlock], waux[kBlock], xval[kBlock];
      uint8_t signs[kBlock / 8];
      const float max = PrepareBlock<kBlock>(xbl + kBlock * ib, importance + kQK_K * ibl + kBlock * ib,
                                             sigma2, weight, waux, xval, signs);
      if (max < kGroupMaxEps) {
        scales[ib] = 0;
        continue;
      }
      int8_t levels[kBlock];
      float scale = SearchPositiveScale<kBlock>(kMaxQ + 1, xval, reinterpret_cast<uint8_t*>(levels), weight);
      const float eff_max = scale * kMaxQ;
      float best = 0;
      for (int is = -6; is <= 6; ++is) {
        const float id = (2 * kMaxQ - 1 + static_cast<float>(is) * 0.1f) / eff_max;
        const float this_scale = 1 / id;
        int8_t laux[kBlock];
        for (int k = 0; k < kBlock / 8; ++k)
          RoundOntoGrid(lattice, xval + 8 * k, waux + 8 * k, id, this_scale, laux + 8 * k);
        float sumqx, sumq2;
        Fit<kBlock>(weight, xval, laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          scale = sumqx / sumq2;
          best = scale * sumqx;
          std::memcpy(levels, laux, sizeof(laux));
        }
      }
      if (scale > 0) {
        const float id = 1 / scale;
        for (int k = 0; k < kBlock / 8; ++k)
          RoundOntoGrid(lattice, xval + 8 * k, waux + 8 * k, id, scale, levels + 8 * k);
        float sumqx, sumq2;
        Fit<kBlock>(weight, xval, levels, &sumqx, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
      }
      if (scale < 0) {
        // ggml's guard (it says this never happens): a positive scale with every sign flipped.
        scale = -scale;
        for (auto& s : signs) s = static_cast<uint8_t>(~s & 127);
      }
      for (int k = 0; k < kBlock / 8; ++k) {
        q2[2 * ib] |= static_cast<uint32_t>(GridIndex(lattice, levels + 8 * k)) << 8 * k;
        q2[2 * ib + 1] |= static_cast<uint32_t>(signs[k]) << 7 * k;
      }
      scales[ib] = scale;
      max_scale = max_scale > scale ? max_scale : scale;
    }
    if (max_scale == 0) continue;  // d and qs stay zero
    const float d = max_scale / 31;
    out.d = Fp32ToFp16(d);
    const float id = 1 / d;
    for (int ib = 0; ib < kBlocks; ++ib)
      q2[2 * ib + 1] |= static_cast<uint32_t>(BlockScaleCode(id, scales[ib])) << 28;
    std::memcpy(out.qs, q2, sizeof(q2));
  }
}

void QuantizeXsRow(const float* x, BlockIQ2_XS* y, int64_t n, const float* importance) {
  constexpr int kBlock = 16;
  constexpr int kBlocks = kQK_K / kBlock;
  const GridLattice& lattice = GridLattice::Iq2Xs();
  // ggml keeps L across blocks: a block whose every try is rejected (all weights zero) writes the
  // previous block's levels. ggml leaves them uninitialised at the start of a row; quantlab zeroes them.
  int8_t levels[kBlock] = {};
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    BlockIQ2_XS& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    uint16_t q2[2 * kBlocks] = {};
    float scales[kBlocks];
    float max_scale = 0;
    const float sigma2 = Sigma2(xbl);
    for (int ib = 0; ib < kBlocks; ++ib) {
      float weight[kBlock], waux[kBlock], xval[kBlock];
      uint8_t signs[kBlock / 8];
      const float max = PrepareBlock<kBlock>(xbl + kBlock * ib, importance + kQK_K * ibl + kBlock * ib,
                                             sigma2, weight, waux, xval, signs);
      if (max < kGroupMaxEps) {
        scales[ib] = 0;
        std::memset(levels, 0, sizeof(levels));
        continue;
      }
      float scale = iq2_search::SearchBlock16(lattice, xval, waux, weight, max, levels);
      if (scale < 0) {
        scale = -scale;
        for (auto& s : signs) s = static_cast<uint8_t>(~s & 127);
      }
      for (int k = 0; k < 2; ++k)
        q2[2 * ib + k] = static_cast<uint16_t>(GridIndex(lattice, levels + 8 * k) | (signs[k] << 9));
      scales[ib] = scale;
      max_scale = max_scale > scale ? max_scale : scale;
    }
    if (max_scale == 0) continue;
    const float d = max_scale / 31;
    out.d = Fp32ToFp16(d);
    const float id = 1 / d;
    for (int ib = 0; ib < kBlocks; ib += 2) {
      out.scales[ib / 2] =
          static_cast<uint8_t>(BlockScaleCode(id, scales[ib]) | (BlockScaleCode(id, scales[ib + 1]) << 4));
    }
    std::memcpy(out.qs, q2, sizeof(q2));
  }
}

}  // namespace

void QuantizeIQ2_XXSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QL_CHECK_MSG(importance != nullptr, "iq2_xxs: importance weights are required (as in ggml)");
  QuantizeXxsRow(x, static_cast<BlockIQ2_XXS*>(y), n_per_row, importance);
}

void QuantizeIQ2_XSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QL_CHECK_MSG(importance != nullptr, "iq2_xs: importance weights are required (as in ggml)");
  QuantizeXsRow(x, static_cast<BlockIQ2_XS*>(y), n_per_row, importance);
}

void DequantizeIQ2_XXS(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ2_XXS*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = Fp16ToFp32(blocks[b].d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint32_t words[2];
      std::memcpy(words, blocks[b].qs + 4 * ib32, sizeof(words));
      const float db = d * (0.5f + static_cast<float>(words[1] >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint64_t point = iq2::kXxsGrid[(words[0] >> 8 * l) & 0xff];
        const uint8_t signs = iq3::kSignsFromSeven[(words[1] >> 7 * l) & 127];
        for (int j = 0; j < 8; ++j) {
          const float value = db * static_cast<float>((point >> 8 * j) & 0xff);
          y[j] = value * ((signs >> j) & 1 ? -1.f : 1.f);
        }
      }
    }
  }
}

void DequantizeIQ2_XS(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ2_XS*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ2_XS& blk = blocks[b];
    const float d = Fp16ToFp32(blk.d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + static_cast<float>(blk.scales[ib32] & 0xf)) * 0.25f,
                           d * (0.5f + static_cast<float>(blk.scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint16_t entry = blk.qs[4 * ib32 + l];
        const uint64_t point = iq2::kXsGrid[entry & 511];
        const uint8_t signs = iq3::kSignsFromSeven[entry >> 9];
        for (int j = 0; j < 8; ++j) {
          const float value = db[l / 2] * static_cast<float>((point >> 8 * j) & 0xff);
          y[j] = value * ((signs >> j) & 1 ? -1.f : 1.f);
        }
      }
    }
  }
}

}  // namespace quantlab::quant_internal
