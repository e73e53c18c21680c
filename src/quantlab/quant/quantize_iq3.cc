#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// IQ3_XXS and IQ3_S: each 4-element group of a 32-element block is a point of a lattice grid
// (iq3_grids.h) times a block scale, with signs stored apart. ggml's quantizers (quantize_row_iq3_xxs_impl
// and quantize_row_iq3_s_impl in ggml-quants.c) share one search per 32-element block:
//   1. weights: x^2 without an importance matrix; importance * sqrt(sigma^2 + x^2) with one, where
//      sigma^2 is twice the mean square of the 256-element super-block;
//   2. signs are split off (|x| is quantized). IQ3_XXS stores 7 of every 8 signs, so when an 8-group has
//      an odd number of negatives, the element of least w x^2 gets its sign flipped;
//   3. for inverse scales id = (15 + 0.2 is) / max|x|, is in [-15, 15] (IQ3_XXS) or [-9, 9] (IQ3_S):
//      levels l = round((id |x| - 1) / 2) in [0, 7]; a group off the grid takes its best neighbour
//      (GridLattice) at scale 1 / id; the weighted least-squares scale of the result is kept when it
//      improves sum w q x)^2 / sum w q^2 (q = 2 l + 1);
//   4. if some groups of the best try were off the grid, they (IQ3_XXS) or all groups (IQ3_S) are
//      quantized again at the fitted scale, and the scale refitted;
//   5. the super-block scale d = max block scale / 31, stored times a fudge factor (1.0125 IQ3_XXS,
//      1.033 IQ3_S); block scales become 4-bit ls = round((scale / d - 1) / 2).
// Float operations keep ggml's order, so the bytes are ggml's.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/grid_lattice.h"
#include "quantlab/quant/iq3_grids.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

constexpr int kBlock = 32;
constexpr int kBlocks = kQK_K / kBlock;
constexpr int kGroups = kBlock / 4;  // lattice points per block
constexpr int kMaxQ = 8;             // levels per element

// What differs between the two formats' searches.
struct Iq3Variant {
  const GridLattice& lattice;
  bool seven_signs;      // IQ3_XXS: the eighth sign of each 8 elements is implied by parity
  float max_eps;         // blocks with max |x| below this (IQ3_S: equal to 0) are left zero
  int tries;             // is in [-tries, tries]
  bool redo_all_groups;  // step 4 requantizes every group (IQ3_S) or only the off-grid ones
};

// The state ggml keeps across blocks: L and is_on_grid survive a block whose every try is rejected
// (possible only when all weights are zero); ggml leaves them uninitialised at first, quantlab zeroes them.
struct BlockState {
  int8_t levels[kBlock] = {};
  bool on_grid[kGroups] = {};
};

uint16_t CodeOf(const int8_t* levels) {
  uint16_t code = 0;
  for (int i = 0; i < 4; ++i) code |= static_cast<uint16_t>(levels[i] << 3 * i);
  return code;
}

// Levels of one group of |x| at inverse scale id, clamped to [0, 7].
uint16_t RoundGroup(const float* xval, float id, int8_t* levels) {
  for (int i = 0; i < 4; ++i) {
    const int l = NearestInt(0.5f * (id * xval[i] - 1));
    levels[i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
  }
  return CodeOf(levels);
}

// sum w |x| q and sum w q^2 for q = 2 l + 1.
void Fit(const float* weight, const float* xval, const int8_t* levels, float* sumqx, float* sumq2) {
  *sumqx = *sumq2 = 0;
  for (int i = 0; i < kBlock; ++i) {
    const float w = weight[i];
    const auto q = static_cast<float>(2 * levels[i] + 1);
    *sumqx += w * xval[i] * q;
    *sumq2 += w * q * q;
  }
}

// Steps 2-4 for one block: fills `signs` (one byte per 8 elements; 7 bits for IQ3_XXS) and st->levels,
// returns the block scale (0 for a block left zero, whose levels are then not written).
float SearchBlock(const Iq3Variant& v, const float* xb, const float* weight, uint8_t* signs, BlockState* st,
                  bool* skipped) {
  float waux[kBlock], xval[kBlock];
  for (int i = 0; i < kBlock; ++i) waux[i] = std::sqrt(weight[i]);
  for (int k = 0; k < kBlock / 8; ++k) {
    const uint8_t s = SplitSigns8(xb + 8 * k, weight + 8 * k, v.seven_signs, xval + 8 * k);
    signs[k] = v.seven_signs ? static_cast<uint8_t>(s & 127) : s;
  }
  float max = xval[0];
  for (int i = 1; i < kBlock; ++i) max = max > xval[i] ? max : xval[i];
  const bool is_zero = v.seven_signs ? max < v.max_eps : max == 0;
  *skipped = is_zero;
  if (is_zero) {
    if (v.seven_signs) std::memset(st->levels, 0, sizeof(st->levels));
    return 0;
  }

  const GridLattice& lattice = v.lattice;
  float best = 0;
  float scale = max / (2 * kMaxQ - 1);
  if (!v.seven_signs) std::fill(std::begin(st->on_grid), std::end(st->on_grid), false);
  int8_t laux[kBlock];
  bool on_grid_aux[kGroups];
  for (int is = -v.tries; is <= v.tries; ++is) {
    const float id = (2 * kMaxQ - 1 + static_cast<float>(is) * 0.2f) / max;
    const float this_scale = 1 / id;
    for (int k = 0; k < kGroups; ++k) {
      const uint16_t code = RoundGroup(xval + 4 * k, id, laux + 4 * k);
      on_grid_aux[k] = lattice.IndexOf(code) >= 0;
      if (!on_grid_aux[k]) lattice.BestNeighbour(code, xval + 4 * k, waux + 4 * k, this_scale, laux + 4 * k);
    }
    float sumqx, sumq2;
    Fit(weight, xval, laux, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      std::memcpy(st->levels, laux, sizeof(laux));
      std::memcpy(st->on_grid, on_grid_aux, sizeof(on_grid_aux));
    }
  }
  int n_off_grid = 0;
  for (const bool on : st->on_grid) n_off_grid += on ? 0 : 1;
  if (n_off_grid > 0 && scale > 0) {
    const float id = 1 / scale;
    for (int k = 0; k < kGroups; ++k) {
      if (!v.redo_all_groups && st->on_grid[k]) continue;
      int8_t* levels = st->levels + 4 * k;
      const uint16_t code = RoundGroup(xval + 4 * k, id, levels);
      int index = lattice.IndexOf(code);
      if (index < 0) index = lattice.BestNeighbour(code, xval + 4 * k, waux + 4 * k, scale, levels);
      for (int i = 0; i < 4; ++i) levels[i] = static_cast<int8_t>((lattice.Value(index, i) - 1) / 2);
    }
    float sumqx, sumq2;
    Fit(weight, xval, st->levels, &sumqx, &sumq2);
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  if (scale < 0) {
    // ggml's guard (it says this never happens): a positive scale with every sign flipped.
    scale = -scale;
    for (int k = 0; k < kBlock / 8; ++k)
      signs[k] = static_cast<uint8_t>(v.seven_signs ? ~signs[k] & 127 : ~signs[k]);
  }
  return scale;
}

// Grid index of each group of a searched block (always on the grid after SearchBlock).
void GridIndices(const GridLattice& lattice, const int8_t* levels, int* indices) {
  for (int k = 0; k < kGroups; ++k) {
    indices[k] = lattice.IndexOf(CodeOf(levels + 4 * k));
    QL_CHECK_MSG(indices[k] >= 0, "iq3: a searched group is off the grid");
  }
}

void Weights(const float* xb, const float* importance, float sigma2, float* weight) {
  for (int i = 0; i < kBlock; ++i) {
    weight[i] = importance != nullptr ? importance[i] * std::sqrt(sigma2 + xb[i] * xb[i]) : xb[i] * xb[i];
  }
}

float Sigma2(const float* x) {
  float sumx2 = 0;
  for (int i = 0; i < kQK_K; ++i) sumx2 += x[i] * x[i];
  return 2 * sumx2 / kQK_K;
}

int BlockScaleCode(float id, float scale) {
  return std::max(0, std::min(15, NearestInt(0.5f * (id * scale - 1))));
}

void QuantizeXxsRow(const float* x, BlockIQ3_XXS* y, int64_t n, const float* importance) {
  const Iq3Variant v{GridLattice::Iq3Xxs(), true, 1e-8f, 15, false};
  BlockState st;
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    const float* qw = importance != nullptr ? importance + kQK_K * ibl : nullptr;
    BlockIQ3_XXS& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    uint32_t scales_and_signs[kBlocks] = {};
    float scales[kBlocks];
    float max_scale = 0;
    const float sigma2 = Sigma2(xbl);
    for (int ib = 0; ib < kBlocks; ++ib) {
      float weight[kBlock];
      Weights(xbl + kBlock * ib, qw != nullptr ? qw + kBlock * ib : nullptr, sigma2, weight);
      uint8_t signs[4];
      bool skipped;
      const float scale = SearchBlock(v, xbl + kBlock * ib, weight, signs, &st, &skipped);
      scales[ib] = scale;
      if (skipped) continue;
      int indices[kGroups];
      GridIndices(v.lattice, st.levels, indices);
      for (int k = 0; k < kGroups; ++k) out.qs[8 * ib + k] = static_cast<uint8_t>(indices[k]);
      scales_and_signs[ib] =
          signs[0] | (signs[1] << 7) | (signs[2] << 14) | (static_cast<uint32_t>(signs[3]) << 21);
      max_scale = std::max(max_scale, scale);
    }
    if (max_scale == 0) {
      std::memset(&out, 0, sizeof(out));
      continue;
    }
    const float d = max_scale / 31;
    out.d = Fp32ToFp16(d * 1.0125f);
    const float id = 1 / d;
    for (int ib = 0; ib < kBlocks; ++ib) {
      const uint32_t word = scales_and_signs[ib] | static_cast<uint32_t>(BlockScaleCode(id, scales[ib]))
                                                       << 28;
      std::memcpy(out.qs + kQK_K / 4 + 4 * ib, &word, sizeof(word));
    }
  }
}

void QuantizeSRow(const float* x, BlockIQ3_S* y, int64_t n, const float* importance) {
  const Iq3Variant v{GridLattice::Iq3S(), false, 0, 9, true};
  BlockState st;
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    const float* qw = importance != nullptr ? importance + kQK_K * ibl : nullptr;
    BlockIQ3_S& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    // ggml advances its qs and signs cursors only past blocks it quantized: after an all-zero block the
    // following blocks' bytes land one block early (and the dequantized block is wrong). Reproduced.
    uint8_t* qs = out.qs;
    uint8_t* signs_out = out.signs;
    float scales[kBlocks];
    float max_scale = 0;
    const float sigma2 = Sigma2(xbl);
    for (int ib = 0; ib < kBlocks; ++ib) {
      float weight[kBlock];
      Weights(xbl + kBlock * ib, qw != nullptr ? qw + kBlock * ib : nullptr, sigma2, weight);
      uint8_t signs[4];
      bool skipped;
      const float scale = SearchBlock(v, xbl + kBlock * ib, weight, signs, &st, &skipped);
      scales[ib] = scale;
      if (skipped) continue;
      int indices[kGroups];
      GridIndices(v.lattice, st.levels, indices);
      for (int k = 0; k < kGroups; ++k) {
        qs[k] = static_cast<uint8_t>(indices[k] & 255);
        out.qh[ib] = static_cast<uint8_t>(out.qh[ib] | ((indices[k] >> 8) << k));
      }
      qs += kGroups;
      std::memcpy(signs_out, signs, 4);
      signs_out += 4;
      max_scale = std::max(max_scale, scale);
    }
    if (max_scale == 0) continue;
    const float d = max_scale / 31;
    out.d = Fp32ToFp16(d * 1.033f);
    const float id = 1 / d;
    for (int ib = 0; ib < kBlocks; ib += 2) {
      out.scales[ib / 2] =
          static_cast<uint8_t>(BlockScaleCode(id, scales[ib]) | (BlockScaleCode(id, scales[ib + 1]) << 4));
    }
  }
}

}  // namespace

void QuantizeIQ3_XXSRef(const float* x, void* y, int64_t n) {
  QuantizeXxsRow(x, static_cast<BlockIQ3_XXS*>(y), n, nullptr);
}

void QuantizeIQ3_XXSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QuantizeXxsRow(x, static_cast<BlockIQ3_XXS*>(y), n_per_row, importance);
}

void QuantizeIQ3_SRef(const float* x, void* y, int64_t n) {
  QuantizeSRow(x, static_cast<BlockIQ3_S*>(y), n, nullptr);
}

void QuantizeIQ3_SWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QuantizeSRow(x, static_cast<BlockIQ3_S*>(y), n_per_row, importance);
}

void DequantizeIQ3_XXS(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ3_XXS*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float d = Fp16ToFp32(blocks[b].d);
    const uint8_t* qs = blocks[b].qs;
    for (int ib = 0; ib < kBlocks; ++ib) {
      uint32_t word;
      std::memcpy(&word, blocks[b].qs + kQK_K / 4 + 4 * ib, sizeof(word));
      const float db = d * (0.5f + static_cast<float>(word >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint8_t signs = iq3::kSignsFromSeven[(word >> 7 * l) & 127];
        for (int half = 0; half < 2; ++half) {
          const uint32_t point = iq3::kXxsGrid[qs[2 * l + half]];
          for (int j = 0; j < 4; ++j) {
            const float value = db * static_cast<float>((point >> 8 * j) & 0xff);
            y[4 * half + j] = value * ((signs >> (4 * half + j)) & 1 ? -1.f : 1.f);
          }
        }
      }
      qs += 8;
    }
  }
}

void DequantizeIQ3_S(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ3_S*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ3_S& blk = blocks[b];
    const float d = Fp16ToFp32(blk.d);
    for (int ib = 0; ib < kBlocks; ++ib) {
      const int ls = (blk.scales[ib / 2] >> 4 * (ib % 2)) & 0xf;
      const float db = d * static_cast<float>(1 + 2 * ls);
      for (int g = 0; g < kGroups; ++g) {
        const int index = blk.qs[kGroups * ib + g] | (((blk.qh[ib] >> g) & 1) << 8);
        const uint8_t signs = blk.signs[4 * ib + g / 2];
        for (int j = 0; j < 4; ++j) {
          const float value = db * static_cast<float>((iq3::kSGrid[index] >> 8 * j) & 0xff);
          y[4 * g + j] = value * ((signs >> (4 * (g % 2) + j)) & 1 ? -1.f : 1.f);
        }
      }
      y += kBlock;
    }
  }
}

}  // namespace quantlab::quant_internal
