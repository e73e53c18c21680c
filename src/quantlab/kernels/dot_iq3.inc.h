// AVX2 dot products of the lattice i-quants (IQ3_XXS, IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S) with Q8_K
// activations. Per 32 elements: the grid points are gathered from the tables (iq3_grids.h, iq2_grids.h)
// into one vector of unsigned bytes (at most 62, so the unsigned x signed byte products cannot
// saturate), the signs are applied to the activations (one sign byte per 8 elements, spread to bytes by
// a table), and the byte products are summed exactly with the odd block scale 2 ls + 1; the
// super-block's float scale is applied with one FMA into a float vector accumulator, as ggml's AVX2
// kernels do. The int16 pair sums of maddubs are scaled (one vpdpwssd with VNNI) in two independent
// accumulators, and the formats whose signs are 7-bit codes (IQ3_XXS, IQ2_XXS, IQ2_XS) take the code
// straight to sign bytes: with a byte dot to int32 and a 32-bit multiply per 32 elements IQ2_XXS
// generated at 0.71x llama.cpp's speed on a 1.1B-shaped model on an Intel core (docs/speed.md).
//
// Included by dot_iq3_avx2.cc and dot_iq3_avx512.cc, each compiled with its own ISA flags; all in an
// unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/lattice_values.inc.h"
#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq3_grids.h"

namespace quantlab::kernels_internal {
namespace {

inline __m256i Points(const uint32_t* grid, const int* index) {
  return _mm256_set_epi32(static_cast<int>(grid[index[7]]), static_cast<int>(grid[index[6]]),
                          static_cast<int>(grid[index[5]]), static_cast<int>(grid[index[4]]),
                          static_cast<int>(grid[index[3]]), static_cast<int>(grid[index[2]]),
                          static_cast<int>(grid[index[1]]), static_cast<int>(grid[index[0]]));
}

inline __m256i SignedActivations(const int8_t* q8, const uint8_t* signs) {
  const auto& spread = iq3::kSignBytes;
  const __m256i s =
      _mm256_set_epi64x(static_cast<int64_t>(spread[signs[3]]), static_cast<int64_t>(spread[signs[2]]),
                        static_cast<int64_t>(spread[signs[1]]), static_cast<int64_t>(spread[signs[0]]));
  return _mm256_sign_epi8(LoadBytes32(q8), s);
}

// The activations with the signs of four 8-element groups applied, from their 7-bit codes (one table
// lookup each; the eighth sign is the parity).
inline __m256i SignedBySevenBitCodes(const int8_t* q8, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3) {
  const auto& spread = iq3::kSignBytesFromSeven;
  const __m256i s = _mm256_set_epi64x(static_cast<int64_t>(spread[c3]), static_cast<int64_t>(spread[c2]),
                                      static_cast<int64_t>(spread[c1]), static_cast<int64_t>(spread[c0]));
  return _mm256_sign_epi8(LoadBytes32(q8), s);
}

// Grid bytes (unsigned, at most 62) times signed activations, pairs summed to int16 (at most 2 * 62 *
// 127, no saturation), times an int16 scale per lane into int32: with VNNI one vpdpwssd.
inline __m256i AddScaledByteDot(__m256i acc, __m256i grid_bytes, __m256i signed_q8, __m256i scales16) {
  return AddScaled(acc, _mm256_maddubs_epi16(grid_bytes, signed_q8), scales16);
}

float DotIQ3_XXSQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ3_XXS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = x[b].qs;
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const uint32_t word = LoadWord(x[b].qs + kQK_K / 4 + 4 * ib);
      int index[8];
      for (int k = 0; k < 8; ++k) index[k] = qs[8 * ib + k];
      const __m256i q8 = SignedBySevenBitCodes(y[b].qs + 32 * ib, word & 127, (word >> 7) & 127,
                                               (word >> 14) & 127, (word >> 21) & 127);
      isum[ib % 2] = AddScaledByteDot(isum[ib % 2], Points(iq3::kXxsGrid.data(), index), q8,
                                      _mm256_set1_epi16(static_cast<int16_t>(2 * (word >> 28) + 1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.25f * HsumFloat8(acc);
}

float DotIQ3_SQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ3_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ3_S& blk = x[b];
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      int index[8];
      for (int k = 0; k < 8; ++k) index[k] = blk.qs[8 * ib + k] | (((blk.qh[ib] >> k) & 1) << 8);
      const int ls = (blk.scales[ib / 2] >> 4 * (ib % 2)) & 0xf;
      isum[ib % 2] = AddScaledByteDot(isum[ib % 2], Points(iq3::kSGrid.data(), index),
                                      SignedActivations(y[b].qs + 32 * ib, blk.signs + 4 * ib),
                                      _mm256_set1_epi16(static_cast<int16_t>(2 * ls + 1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(blk.d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return HsumFloat8(acc);
}

// IQ2_S: four 8-element grid points per 32 elements, one sign byte each; int32 lanes 0..3 hold the
// first 16 elements (first 4-bit scale), lanes 4..7 the second 16.
float DotIQ2_SQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ2_S& blk = x[b];
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint64_t points[4];
      for (int l = 0; l < 4; ++l)
        points[l] = iq2::kSGrid[blk.qs[4 * ib32 + l] | (((blk.qh[ib32] >> 2 * l) & 3) << 8)];
      const __m256i q = _mm256_set_epi64x(static_cast<int64_t>(points[3]), static_cast<int64_t>(points[2]),
                                          static_cast<int64_t>(points[1]), static_cast<int64_t>(points[0]));
      const auto ls1 = static_cast<int16_t>(1 + 2 * (blk.scales[ib32] & 0xf));
      const auto ls2 = static_cast<int16_t>(1 + 2 * (blk.scales[ib32] >> 4));
      isum[ib32 % 2] = AddScaledByteDot(isum[ib32 % 2], q,
                                        SignedActivations(y[b].qs + 32 * ib32, blk.qs + kQK_K / 8 + 4 * ib32),
                                        HalvesScale(ls1, ls2));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(blk.d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.125f * HsumFloat8(acc);
}

// IQ2_XXS: per 32 elements four 8-element grid points (indices in the first word), their 7-bit sign codes
// and one 4-bit scale in the second word; final 0.125 (ggml's).
float DotIQ2_XXSQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_XXS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const auto* qs = reinterpret_cast<const uint8_t*>(x[b].qs);
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const uint32_t codes = LoadWord(qs + 8 * ib32 + 4);
      const __m256i q = Iq2XxsMagnitudes(qs, ib32);
      const __m256i q8 = SignedBySevenBitCodes(y[b].qs + 32 * ib32, codes & 127, (codes >> 7) & 127,
                                               (codes >> 14) & 127, (codes >> 21) & 127);
      isum[ib32 % 2] = AddScaledByteDot(isum[ib32 % 2], q, q8,
                                        _mm256_set1_epi16(static_cast<int16_t>(2 * (codes >> 28) + 1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.125f * HsumFloat8(acc);
}

// IQ2_XS: one 16-bit entry per 8-element group (grid index | sign code << 9), a 4-bit scale per 16
// elements: lanes 0..3 take the first, 4..7 the second, as for IQ2_S.
float DotIQ2_XSQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ2_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ2_XS& blk = x[b];
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const uint16_t* entry = blk.qs + 4 * ib32;
      const __m256i q = Iq2XsMagnitudes(entry);
      const __m256i q8 = SignedBySevenBitCodes(y[b].qs + 32 * ib32, entry[0] >> 9, entry[1] >> 9,
                                               entry[2] >> 9, entry[3] >> 9);
      const auto ls1 = static_cast<int16_t>(1 + 2 * (blk.scales[ib32] & 0xf));
      const auto ls2 = static_cast<int16_t>(1 + 2 * (blk.scales[ib32] >> 4));
      // maddubs' int16 lanes 0..7 are the first 16 elements, 8..15 the second.
      isum[ib32 % 2] = AddScaledByteDot(isum[ib32 % 2], q, q8, HalvesScale(ls1, ls2));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(blk.d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.125f * HsumFloat8(acc);
}

// The Q8_K activations come from the lower ISA's converter (the registry keeps it when from_float is
// null); each entry repeats the activation format, as every SIMD entry must.
std::span<const TypeKernelEntry> DotIq3Here() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kIQ3_XXS, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ3_XXSQ8_K},
      {.type = GgmlType::kIQ3_S, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ3_SQ8_K},
      {.type = GgmlType::kIQ2_S, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ2_SQ8_K},
      {.type = GgmlType::kIQ2_XXS, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ2_XXSQ8_K},
      {.type = GgmlType::kIQ2_XS, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ2_XSQ8_K},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
