#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// IQ1_S and IQ1_M: each 8-element group is a point of a 2048-point lattice of levels {-1, 0, 1}
// (iq1_grids.h) shifted by +-0.125, times a block scale. ggml's quantizers (quantize_row_iq1_s_impl and
// quantize_row_iq1_m_impl in ggml-quants.c) share one search per block (32 elements for IQ1_S, 16 for
// IQ1_M):
//   1. weights importance * sqrt(sigma^2 + x^2) (sigma^2 twice the mean square of the super-block);
//      IQ1_M without importance x^2 (IQ1_S has no such path: ggml asserts, and so does quantlab);
//   2. with three levels the weighted least-squares problem is solved exactly: the elements sorted by
//      value, every split into a low, middle and high third tried with both shift signs (IQ1_M: each of
//      its two groups with its own sign), the split and sign of the best sum(w q x)^2 / sum(w q^2) kept;
//   3. groups off the grid replaced by the neighbour closest at that scale, the scale refitted;
//   4. IQ1_S: d = max block scale / 15, stored times 1.125, 3-bit scales round((scale / d - 1) / 2);
//      IQ1_M: the same 3-bit scales, then d refitted over the whole super-block and stored times 1.1125.
// Both are only reached through llama.cpp's IQ1 recipes' tensors, with an importance matrix.

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/grid_lattice.h"
#include "quantlab/quant/iq1_grids.h"
#include "quantlab/quant/search.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {
namespace {

using iq1::kDelta;

// The three level values with the shift added (ggml's x_p) or subtracted (x_m).
constexpr float kPlus[3] = {-1 + kDelta, kDelta, 1 + kDelta};
constexpr float kMinus[3] = {-1 - kDelta, -kDelta, 1 - kDelta};

inline float Larger(float a, float b) { return a > b ? a : b; }  // ggml's MAX, NaN order included

float MaxAbs(const float* x, int n) {
  float max = std::fabs(x[0]);
  for (int i = 1; i < n; ++i) max = Larger(max, std::fabs(x[i]));
  return max;
}

// Element order by value. ggml sorts (value, index) pairs with qsort on the value alone; glibc's qsort
// is a merge sort for arrays this small, so equal values keep their index order: a stable sort.
template <int kN>
void SortByValue(const float* x, int* order) {
  for (int i = 0; i < kN; ++i) order[i] = i;
  std::stable_sort(order, order + kN, [x](int a, int b) { return x[a] < x[b]; });
}

// The grid point among the neighbours of the off-grid `levels` closest to x at `scale`, by
// sum w (scale v - x)^2 with v the shifted level values (ggml's iq1_find_best_neighbour2). Where ggml
// finds none (every distance NaN or above FLT_MAX: it aborts), the first neighbour.
int BestNeighbour(const GridLattice& lattice, const float* x, const float* w, float scale,
                  const float* values, int8_t* levels) {
  const auto neighbours = lattice.NeighboursOf(lattice.CodeOf(levels));
  float best_d2 = FLT_MAX;
  int best = -1;
  for (const uint16_t k : neighbours) {
    float d2 = 0;
    for (int i = 0; i < 8; ++i) {
      const float diff = scale * values[(lattice.Value(k, i) - 1) / 2] - x[i];
      d2 += w[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = k;
    }
  }
  if (best < 0) best = neighbours[0];
  for (int i = 0; i < 8; ++i) levels[i] = static_cast<int8_t>((lattice.Value(best, i) - 1) / 2);
  return best;
}

// Grid indices of the kN / 8 groups of `levels` (off-grid groups moved to their best neighbour, their
// levels updated); returns whether all were on the grid. values[k]: group k's shifted level values.
template <int kN>
bool GroupsOnGrid(const GridLattice& lattice, const float* x, const float* w, float scale,
                  const float* const* values, int8_t* levels, uint16_t* index) {
  bool all_on_grid = true;
  for (int k = 0; k < kN / 8; ++k) {
    int grid_index = lattice.IndexOf(lattice.CodeOf(levels + 8 * k));
    if (grid_index < 0) {
      all_on_grid = false;
      grid_index = BestNeighbour(lattice, x + 8 * k, w + 8 * k, scale, values[k], levels + 8 * k);
    }
    index[k] = static_cast<uint16_t>(grid_index);
  }
  return all_on_grid;
}

// The weighted least-squares scale of x over the chosen grid points; `scale` unchanged unless both
// sums are positive.
template <int kN>
void RefitScale(const GridLattice& lattice, const float* x, const float* w, const float* const* values,
                const uint16_t* index, float* scale) {
  float sumqx = 0, sumq2 = 0;
  for (int k = 0; k < kN / 8; ++k) {
    for (int j = 0; j < 8; ++j) {
      const float wj = w[8 * k + j];
      const float q = values[k][(lattice.Value(index[k], j) - 1) / 2];
      sumqx += wj * q * x[8 * k + j];
      sumq2 += wj * q * q;
    }
  }
  if (sumqx > 0 && sumq2 > 0) *scale = sumqx / sumq2;
}

float SuperBlockSigma2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
  return 2 * sumx2 / kQK_K;
}

void Weights(const float* xb, const float* qw, float sigma2, int n, float* weight) {
  for (int i = 0; i < n; ++i)
    weight[i] = qw != nullptr ? qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]) : xb[i] * xb[i];
}

// --- IQ1_S --------------------------------------------------------------------------------------------

constexpr int kSBlock = 32;
constexpr int kSBlocks = kQK_K / kSBlock;

void QuantizeRowIQ1_S(const float* x, BlockIQ1_S* y, int64_t n, const float* importance) {
  const GridLattice& lattice = GridLattice::Iq1();
  // ggml keeps the blocks' shift signs in an array that lives for a whole call (all its rows) and reads
  // a block's stale entry when the block is all zero inside a non-zero super-block (the entry is then
  // the same block's of an earlier super-block, or uninitialised memory at the start of a call).
  // quantlab starts each row with + (what ggml does on zeroed memory, see the golden manifest), so rows
  // are independent; within a row the bytes are ggml's.
  int shifts[kSBlocks] = {1, 1, 1, 1, 1, 1, 1, 1};
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    BlockIQ1_S& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    const float sigma2 = SuperBlockSigma2(xbl);
    float scales[kSBlocks];
    float max_scale = 0;
    for (int ib = 0; ib < kSBlocks; ++ib) {
      const float* xb = xbl + kSBlock * ib;
      float weight[kSBlock];
      Weights(xb, importance + kQK_K * ibl + kSBlock * ib, sigma2, kSBlock, weight);
      if (MaxAbs(xb, kSBlock) < 1e-12f) {
        scales[ib] = 0;
        continue;
      }
      int order[kSBlock];
      SortByValue<kSBlock>(xb, order);
      float sumx[kSBlock + 1], sumw[kSBlock + 1];
      sumx[0] = sumw[0] = 0;
      for (int j = 0; j < kSBlock; ++j) {
        sumx[j + 1] = sumx[j] + weight[order[j]] * xb[order[j]];
        sumw[j + 1] = sumw[j] + weight[order[j]];
      }
      // Elements order[0..i1) get level 0, [i1, i2) level 1, the rest level 2.
      float best_score = -FLT_MIN, scale = 0;
      int best_i1 = -1, best_i2 = -1, best_shift = 0;
      for (int i1 = 0; i1 <= kSBlock; ++i1) {
        for (int i2 = i1; i2 <= kSBlock; ++i2) {
          for (const int shift : {1, -1}) {
            const float* v = shift == 1 ? kPlus : kMinus;
            const float sumqx = (sumx[i1] - sumx[0]) * v[0] + (sumx[i2] - sumx[i1]) * v[1] +
                                (sumx[kSBlock] - sumx[i2]) * v[2];
            const float sumq2 = (sumw[i1] - sumw[0]) * v[0] * v[0] + (sumw[i2] - sumw[i1]) * v[1] * v[1] +
                                (sumw[kSBlock] - sumw[i2]) * v[2] * v[2];
            if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
              scale = sumqx / sumq2;
              best_score = scale * sumqx;
              best_i1 = i1;
              best_i2 = i2;
              best_shift = shift;
            }
          }
        }
      }
      if (best_i1 < 0) {  // every score NaN (sums of squares overflowed): ggml aborts here
        scales[ib] = 0;
        continue;
      }
      int8_t levels[kSBlock];
      for (int j = 0; j < kSBlock; ++j)
        levels[order[j]] = static_cast<int8_t>(j < best_i1 ? 0 : j < best_i2 ? 1 : 2);
      if (scale < 0) {
        for (auto& l : levels) l = static_cast<int8_t>(2 - l);
        scale = -scale;
        best_shift = -best_shift;
      }
      const float* values = best_shift == 1 ? kPlus : kMinus;
      const float* group_values[kSBlock / 8] = {values, values, values, values};
      uint16_t index[kSBlock / 8];
      if (!GroupsOnGrid<kSBlock>(lattice, xb, weight, scale, group_values, levels, index))
        RefitScale<kSBlock>(lattice, xb, weight, group_values, index, &scale);
      uint16_t h = 0;
      for (int k = 0; k < kSBlock / 8; ++k) {
        out.qs[(kSBlock / 8) * ib + k] = static_cast<uint8_t>(index[k] & 255);
        h = static_cast<uint16_t>(h | ((index[k] >> 8) << 3 * k));
      }
      out.qh[ib] = h;
      scales[ib] = scale;
      shifts[ib] = best_shift;
      max_scale = Larger(max_scale, scale);
    }
    if (max_scale == 0) continue;
    const float d = max_scale / 15;
    out.d = Fp32ToFp16(d * 1.125f);
    const float id = 1 / d;
    for (int ib = 0; ib < kSBlocks; ++ib) {
      int l = std::max(0, std::min(7, NearestInt(0.5f * (id * scales[ib] - 1))));
      if (shifts[ib] == -1) l |= 8;
      out.qh[ib] = static_cast<uint16_t>(out.qh[ib] | (l << 12));
    }
  }
}

// --- IQ1_M --------------------------------------------------------------------------------------------

constexpr int kMBlock = 16;
constexpr int kMBlocks = kQK_K / kMBlock;

// Shift choices of a 16-element block, as ggml numbers them: bit 1 set: the first group's shift is
// negative; bit 0 set: the second's. The qh bits that store them (bit 3: first group, bit 7: second).
constexpr uint8_t kShiftMasks[4] = {0x00, 0x80, 0x08, 0x88};
const float* FirstGroupValues(int shift) { return shift < 2 ? kPlus : kMinus; }
const float* SecondGroupValues(int shift) { return shift % 2 == 0 ? kPlus : kMinus; }

void QuantizeRowIQ1_M(const float* x, BlockIQ1_M* y, int64_t n, const float* importance) {
  const GridLattice& lattice = GridLattice::Iq1();
  int shifts[kMBlocks] = {};  // choice 0 (+, +) at the row's start; stale after (see QuantizeRowIQ1_S)
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    const float* qwbl = importance != nullptr ? importance + kQK_K * ibl : nullptr;
    BlockIQ1_M& out = y[ibl];
    std::memset(&out, 0, sizeof(out));
    const float sigma2 = SuperBlockSigma2(xbl);
    float scales[kMBlocks];
    float max_scale = 0;
    for (int ib = 0; ib < kMBlocks; ++ib) {
      const float* xb = xbl + kMBlock * ib;
      float weight[kMBlock];
      Weights(xb, qwbl != nullptr ? qwbl + kMBlock * ib : nullptr, sigma2, kMBlock, weight);
      if (MaxAbs(xb, kMBlock) < 1e-7f) {
        scales[ib] = 0;
        continue;
      }
      int order[kMBlock];
      SortByValue<kMBlock>(xb, order);
      float best_score = -FLT_MIN, scale = 0;
      int best_i1 = -1, best_i2 = -1, best_k = -1;
      for (int i1 = 0; i1 <= kMBlock; ++i1) {
        for (int i2 = i1; i2 <= kMBlock; ++i2) {
          // Sums for the four shift choices, accumulated in sorted order as ggml does.
          float sumqx[4] = {0, 0, 0, 0}, sumq2[4] = {0, 0, 0, 0};
          for (int j = 0; j < kMBlock; ++j) {
            const int i = order[j];
            const int level = j < i1 ? 0 : j < i2 ? 1 : 2;
            const float p = kPlus[level], m = kMinus[level];
            // First group: choices 0, 1 take +, 2, 3 take -; second group: 0, 2 +, 1, 3 -.
            const bool first = i < kMBlock / 2;
            const float v[4] = {p, first ? p : m, first ? m : p, m};
            for (int k = 0; k < 4; ++k) {
              sumqx[k] += weight[i] * v[k] * xb[i];
              sumq2[k] += weight[i] * v[k] * v[k];
            }
          }
          for (int k = 0; k < 4; ++k) {
            if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best_score * sumq2[k]) {
              scale = sumqx[k] / sumq2[k];
              best_score = scale * sumqx[k];
              best_i1 = i1;
              best_i2 = i2;
              best_k = k;
            }
          }
        }
      }
      if (best_i1 < 0) {  // every score NaN: ggml aborts here
        scales[ib] = 0;
        continue;
      }
      int8_t levels[kMBlock];
      for (int j = 0; j < kMBlock; ++j)
        levels[order[j]] = static_cast<int8_t>(j < best_i1 ? 0 : j < best_i2 ? 1 : 2);
      if (scale < 0) {
        for (auto& l : levels) l = static_cast<int8_t>(2 - l);
        scale = -scale;
        best_k = 3 - best_k;  // both signs flip
      }
      const float* group_values[2] = {FirstGroupValues(best_k), SecondGroupValues(best_k)};
      uint16_t index[2];
      if (!GroupsOnGrid<kMBlock>(lattice, xb, weight, scale, group_values, levels, index))
        RefitScale<kMBlock>(lattice, xb, weight, group_values, index, &scale);
      out.qs[2 * ib + 0] = static_cast<uint8_t>(index[0] & 255);
      out.qs[2 * ib + 1] = static_cast<uint8_t>(index[1] & 255);
      out.qh[ib] = static_cast<uint8_t>((index[0] >> 8) | ((index[1] >> 8) << 4));
      scales[ib] = scale;
      shifts[ib] = best_k;
      max_scale = Larger(max_scale, scale);
    }
    if (max_scale == 0) continue;
    uint16_t sc[4] = {0, 0, 0, 0};
    float d = max_scale / 15;
    const float id = 1 / d;
    // With the 3-bit scales fixed, d is refitted over the whole super-block.
    float sumqx = 0, sumq2 = 0;
    for (int ib = 0; ib < kMBlocks; ++ib) {
      const int l = std::max(0, std::min(7, NearestInt(0.5f * (id * scales[ib] - 1))));
      sc[ib / 4] = static_cast<uint16_t>(sc[ib / 4] | (l << 3 * (ib % 4)));
      out.qh[ib] = static_cast<uint8_t>(out.qh[ib] | kShiftMasks[shifts[ib]]);
      const float* xb = xbl + kMBlock * ib;
      float weight[kMBlock];
      Weights(xb, qwbl != nullptr ? qwbl + kMBlock * ib : nullptr, sigma2, kMBlock, weight);
      for (int k = 0; k < 2; ++k) {
        const float* values = k == 0 ? FirstGroupValues(shifts[ib]) : SecondGroupValues(shifts[ib]);
        const int grid_index = out.qs[2 * ib + k] | (((out.qh[ib] >> 4 * k) & 7) << 8);
        for (int j = 0; j < 8; ++j) {
          const float w = weight[8 * k + j];
          const float q = values[(lattice.Value(grid_index, j) - 1) / 2] * static_cast<float>(2 * l + 1);
          sumqx += w * q * xb[8 * k + j];
          sumq2 += w * q * q;
        }
      }
    }
    if (sumq2 > 0) d = sumqx / sumq2;
    const fp16_t s = Fp32ToFp16(d * 1.1125f);
    for (int i = 0; i < 4; ++i) sc[i] = static_cast<uint16_t>(sc[i] | (((s >> 4 * i) & 0xf) << 12));
    std::memcpy(out.scales, sc, sizeof(sc));
  }
}

// Element values of one 8-element group: dl * (grid value + delta).
void DequantizeGroup(int grid_index, float dl, float delta, float* y) {
  for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(iq1::GridValue(grid_index, j)) + delta);
}

}  // namespace

void QuantizeIQ1_SWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QL_CHECK_MSG(importance != nullptr, "iq1_s needs importance weights (ggml asserts them)");
  QuantizeRowIQ1_S(x, static_cast<BlockIQ1_S*>(y), n_per_row, importance);
}

void DequantizeIQ1_S(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ1_S*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_S& blk = blocks[b];
    const float d = Fp16ToFp32(blk.d);
    for (int ib = 0; ib < kSBlocks; ++ib) {
      const uint16_t qh = blk.qh[ib];
      const float dl = d * static_cast<float>(Iq1SBlockScale(blk, ib));
      const float delta = qh & 0x8000 ? -kDelta : kDelta;
      for (int l = 0; l < 4; ++l, y += 8)
        DequantizeGroup(blk.qs[4 * ib + l] | (((qh >> 3 * l) & 7) << 8), dl, delta, y);
    }
  }
}

// Without importance weights: ggml's IQ1_M search with weights x^2 (what ggml_quantize_chunk writes;
// llama-quantize only lets token_embd and output get there).
void QuantizeIQ1_MRef(const float* x, void* y, int64_t n) {
  QuantizeRowIQ1_M(x, static_cast<BlockIQ1_M*>(y), n, nullptr);
}

void QuantizeIQ1_MWeighted(const float* x, void* y, int64_t n_per_row, const float* importance) {
  QuantizeRowIQ1_M(x, static_cast<BlockIQ1_M*>(y), n_per_row, importance);
}

void DequantizeIQ1_M(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockIQ1_M*>(x);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_M& blk = blocks[b];
    uint16_t sc[4];
    Iq1MScaleWords(blk, sc);
    const fp16_t s = Iq1MSuperScale(sc);
    const float d = Fp16ToFp32(s);
    for (int ib = 0; ib < kMBlocks; ++ib, y += 16) {
      const float dl = d * static_cast<float>(Iq1MBlockScale(sc, ib));
      for (int k = 0; k < 2; ++k) {
        const uint8_t qh = blk.qh[ib];
        const float delta = (qh >> (4 * k + 3)) & 1 ? -kDelta : kDelta;
        DequantizeGroup(blk.qs[2 * ib + k] | (((qh >> 4 * k) & 7) << 8), dl, delta, y + 8 * k);
      }
    }
  }
}

}  // namespace quantlab::quant_internal
