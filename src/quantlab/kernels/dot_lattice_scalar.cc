// Scalar reference dot products of the lattice i-quants (IQ3_XXS, IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S,
// IQ1_M) with Q8_K
// activations,
// as ggml's x86 build computes them: per 256-element super-block the integer sum over its blocks of the
// odd block scale (2 ls + 1) times sum(grid value * sign * activation) is exact; it is scaled by
// d_w * d_a and summed in float. IQ3_XXS's grid values are 4 times the level's and its scale is
// half-step, hence the final 0.25 (ggml's).
#include <cstring>

#include "quantlab/kernels/registry.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/iq1_grids.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq3_grids.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::kernels_internal {
namespace {

// sum over 8 elements of grid value * sign * activation for two grid points and one sign byte.
int SignedGroupDot(uint32_t point_lo, uint32_t point_hi, uint8_t signs, const int8_t* q8) {
  int sum = 0;
  for (int j = 0; j < 8; ++j) {
    const uint32_t point = j < 4 ? point_lo : point_hi;
    const int value = static_cast<int>((point >> 8 * (j % 4)) & 0xff) * q8[j];
    sum += (signs >> j) & 1 ? -value : value;
  }
  return sum;
}

// sum over 8 elements of grid value (-1, 0, 1) * activation.
int Iq1GroupDot(int grid_index, const int8_t* q8) {
  int sum = 0;
  for (int j = 0; j < 8; ++j) sum += iq1::GridValue(grid_index, j) * q8[j];
  return sum;
}

}  // namespace

float DotIQ3_XXSQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ3_XXS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = x[b].qs;
    const int8_t* q8 = y[b].qs;
    int isum = 0;
    for (int ib = 0; ib < kQK_K / 32; ++ib, qs += 8) {
      uint32_t word;
      std::memcpy(&word, x[b].qs + kQK_K / 4 + 4 * ib, sizeof(word));
      int block = 0;
      for (int l = 0; l < 4; ++l, q8 += 8) {
        block += SignedGroupDot(iq3::kXxsGrid[qs[2 * l]], iq3::kXxsGrid[qs[2 * l + 1]],
                                iq3::kSignsFromSeven[(word >> 7 * l) & 127], q8);
      }
      isum += block * static_cast<int>(2 * (word >> 28) + 1);
    }
    sum += Fp16ToFp32(x[b].d) * y[b].d * static_cast<float>(isum);
  }
  return 0.25f * sum;
}

float DotIQ3_SQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ3_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ3_S& blk = x[b];
    const int8_t* q8 = y[b].qs;
    int isum = 0;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      int block = 0;
      for (int l = 0; l < 4; ++l, q8 += 8) {
        const int g = 2 * l;
        const int lo = blk.qs[8 * ib + g] | (((blk.qh[ib] >> g) & 1) << 8);
        const int hi = blk.qs[8 * ib + g + 1] | (((blk.qh[ib] >> (g + 1)) & 1) << 8);
        block += SignedGroupDot(iq3::kSGrid[lo], iq3::kSGrid[hi], blk.signs[4 * ib + l], q8);
      }
      const int ls = (blk.scales[ib / 2] >> 4 * (ib % 2)) & 0xf;
      isum += block * (2 * ls + 1);
    }
    sum += Fp16ToFp32(blk.d) * y[b].d * static_cast<float>(isum);
  }
  return sum;
}

// IQ2_S (the IQ3_XXS recipe's attn_q and attn_k): the same with 8-element groups of one sign byte, a
// 4-bit scale per 16 elements, and a final 0.125 (ggml's).
float DotIQ2_SQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ2_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ2_S& blk = x[b];
    const int8_t* q8 = y[b].qs;
    int isum = 0;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      int half[2] = {0, 0};
      for (int l = 0; l < 4; ++l, q8 += 8) {
        const int g = 4 * ib32 + l;
        const uint64_t point = iq2::kSGrid[blk.qs[g] | (((blk.qh[ib32] >> 2 * l) & 3) << 8)];
        half[l / 2] += SignedGroupDot(static_cast<uint32_t>(point), static_cast<uint32_t>(point >> 32),
                                      blk.qs[kQK_K / 8 + g], q8);
      }
      isum += (1 + 2 * (blk.scales[ib32] & 0xf)) * half[0] + (1 + 2 * (blk.scales[ib32] >> 4)) * half[1];
    }
    sum += Fp16ToFp32(blk.d) * y[b].d * static_cast<float>(isum);
  }
  return 0.125f * sum;
}

// IQ2_XXS: four 8-element groups per 32 elements, grid indices in the block's first word, 7-bit sign
// codes and one 4-bit scale in its second; final 0.125 (ggml's).
float DotIQ2_XXSQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const int8_t* q8 = y[b].qs;
    int isum = 0;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint32_t words[2];
      std::memcpy(words, x[b].qs + 4 * ib32, sizeof(words));
      int block = 0;
      for (int l = 0; l < 4; ++l, q8 += 8) {
        const uint64_t point = iq2::kXxsGrid[(words[0] >> 8 * l) & 0xff];
        block += SignedGroupDot(static_cast<uint32_t>(point), static_cast<uint32_t>(point >> 32),
                                iq3::kSignsFromSeven[(words[1] >> 7 * l) & 127], q8);
      }
      isum += block * static_cast<int>(2 * (words[1] >> 28) + 1);
    }
    sum += Fp16ToFp32(x[b].d) * y[b].d * static_cast<float>(isum);
  }
  return 0.125f * sum;
}

// IQ2_XS: one 16-bit entry per group (grid index | sign code << 9), a 4-bit scale per 16 elements; final
// 0.125 (ggml's).
float DotIQ2_XSQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ2_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ2_XS& blk = x[b];
    const int8_t* q8 = y[b].qs;
    int isum = 0;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      int half[2] = {0, 0};
      for (int l = 0; l < 4; ++l, q8 += 8) {
        const uint16_t entry = blk.qs[4 * ib32 + l];
        const uint64_t point = iq2::kXsGrid[entry & 511];
        half[l / 2] += SignedGroupDot(static_cast<uint32_t>(point), static_cast<uint32_t>(point >> 32),
                                      iq3::kSignsFromSeven[entry >> 9], q8);
      }
      isum += (1 + 2 * (blk.scales[ib32] & 0xf)) * half[0] + (1 + 2 * (blk.scales[ib32] >> 4)) * half[1];
    }
    sum += Fp16ToFp32(blk.d) * y[b].d * static_cast<float>(isum);
  }
  return 0.125f * sum;
}

// IQ1_S and IQ1_M (the IQ1 recipes): x = d * (2 ls + 1) * (grid value +- 1/8). Per super-block two
// exact integer sums, of scale * grid value * activation and of scale * shift sign * activation (the
// latter from Q8_K's bsums, sums of 16), combined as ggml's generic path does:
// d_w * d_a * (sum + 0.125 * shift_sum). (Its AVX2 path sums the two parts of all super-blocks apart
// and adds them at the end; the results differ in float rounding only.)
float DotIQ1_SQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_S& blk = x[b];
    const int8_t* q8 = y[b].qs;
    int isum = 0, shift_sum = 0;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const uint16_t qh = blk.qh[ib];
      const int ls = Iq1SBlockScale(blk, ib);
      int block = 0;
      for (int l = 0; l < 4; ++l, q8 += 8)
        block += Iq1GroupDot(blk.qs[4 * ib + l] | (((qh >> 3 * l) & 7) << 8), q8);
      isum += ls * block;
      shift_sum += ls * (qh & 0x8000 ? -1 : 1) * (y[b].bsums[2 * ib] + y[b].bsums[2 * ib + 1]);
    }
    sum +=
        Fp16ToFp32(blk.d) * y[b].d * (static_cast<float>(isum) + iq1::kDelta * static_cast<float>(shift_sum));
  }
  return sum;
}

float DotIQ1_MQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_M& blk = x[b];
    uint16_t sc[4];
    Iq1MScaleWords(blk, sc);
    const fp16_t d = Iq1MSuperScale(sc);
    const int8_t* q8 = y[b].qs;
    int isum = 0, shift_sum = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {  // 16-element blocks, two groups each
      const int ls = Iq1MBlockScale(sc, ib);
      const uint8_t qh = blk.qh[ib];
      int block = 0, shifts = 0;
      for (int k = 0; k < 2; ++k, q8 += 8) {
        block += Iq1GroupDot(blk.qs[2 * ib + k] | (((qh >> 4 * k) & 7) << 8), q8);
        int q8_sum = 0;
        for (int j = 0; j < 8; ++j) q8_sum += q8[j];
        shifts += (qh >> (4 * k + 3)) & 1 ? -q8_sum : q8_sum;
      }
      isum += ls * block;
      shift_sum += ls * shifts;
    }
    sum += Fp16ToFp32(d) * y[b].d * (static_cast<float>(isum) + iq1::kDelta * static_cast<float>(shift_sum));
  }
  return sum;
}

}  // namespace quantlab::kernels_internal
