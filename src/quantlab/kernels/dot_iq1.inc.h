// AVX2 dot products of the 1-bit lattice i-quants (IQ1_S, IQ1_M) with Q8_K activations. An element is
// d * (2 ls + 1) * (g + s / 8) with g in {-1, 0, 1} (iq1_grids.h) and s = +-1 per 32 elements (IQ1_S) or
// per 8 (IQ1_M), so 8 g + s is an integer in -9..9: one byte dot per 32 elements (maddubs, then the
// int16 scale with vpdpwssd) gives the scaled sum (8 g + s) * y exactly, and the float part
// d_w * d_a / 8 comes last. Per
// super-block the integer is the scalar reference's 8 * sum + shift_sum (dot_lattice_scalar.cc), so only
// the order of the float additions over super-blocks differs.
//
// Included by dot_iq1_avx2.cc and dot_iq1_avx512.cc, each compiled with its own ISA flags; all in an
// unnamed namespace, so each includer gets its own copy.
#pragma once

#include <cstring>

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/iq1_grids.h"

namespace quantlab::kernels_internal {
namespace {

// 8 g + s for four 8-element groups: grid points (int8 -1, 0, 1 per byte) and per-group shifts (+-1).
inline __m256i Iq1Values(const int (&index)[4], const int (&shift)[4]) {
  const __m256i g = _mm256_set_epi64x(
      static_cast<int64_t>(iq1::kGrid[index[3]]), static_cast<int64_t>(iq1::kGrid[index[2]]),
      static_cast<int64_t>(iq1::kGrid[index[1]]), static_cast<int64_t>(iq1::kGrid[index[0]]));
  // +1 or -1 in every byte of a group.
  const auto spread = [&](int l) -> int64_t { return shift[l] < 0 ? -1 : 0x0101010101010101; };
  const __m256i s = _mm256_set_epi64x(spread(3), spread(2), spread(1), spread(0));
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), g), s);
}

// acc + sum over pairs of (8 g + s) * y, times an int16 scale per pair lane: |8 g + s| <= 9, so the
// int16 pair sums of maddubs cannot saturate; with VNNI the scaling is one vpdpwssd.
inline __m256i AddScaledIq1Dot(__m256i acc, __m256i values, const int8_t* q8, __m256i scales16) {
  const __m256i p =
      _mm256_maddubs_epi16(_mm256_sign_epi8(values, values), _mm256_sign_epi8(LoadBytes32(q8), values));
  return AddScaled(acc, p, scales16);
}

// IQ1_S: per 32 elements four grid indices (8 low bits in qs, 3 high bits in qh), a 3-bit scale and one
// shift sign in qh.
float DotIQ1_SQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_S& blk = x[b];
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const uint16_t qh = blk.qh[ib];
      const int s = qh & 0x8000 ? -1 : 1;
      const int index[4] = {blk.qs[4 * ib] | ((qh & 7) << 8), blk.qs[4 * ib + 1] | (((qh >> 3) & 7) << 8),
                            blk.qs[4 * ib + 2] | (((qh >> 6) & 7) << 8),
                            blk.qs[4 * ib + 3] | (((qh >> 9) & 7) << 8)};
      const int shift[4] = {s, s, s, s};
      isum[ib % 2] = AddScaledIq1Dot(isum[ib % 2], Iq1Values(index, shift), y[b].qs + 32 * ib,
                                     _mm256_set1_epi16(static_cast<int16_t>(2 * ((qh >> 12) & 7) + 1)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(blk.d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.125f * HsumFloat8(acc);
}

// IQ1_M: per 16 elements two groups (qh byte: 3 high index bits and the shift sign of each) and a 3-bit
// scale; the super-block's fp16 d is spread over the four scale words' top nibbles. Lanes 0..3 of a
// 32-element dot are its first 16 elements, 4..7 the second.
float DotIQ1_MQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_M& blk = x[b];
    uint16_t sc[4];
    std::memcpy(sc, blk.scales, sizeof(sc));
    const auto d = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) | ((sc[2] >> 4) & 0x0f00) |
                                         (sc[3] & 0xf000));
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      int index[4], shift[4];
      for (int l = 0; l < 4; ++l) {
        const uint8_t qh = blk.qh[2 * ib32 + l / 2];
        const int bits = qh >> 4 * (l % 2);
        index[l] = blk.qs[4 * ib32 + l] | ((bits & 7) << 8);
        shift[l] = bits & 8 ? -1 : 1;
      }
      const int ib1 = 2 * ib32, ib2 = 2 * ib32 + 1;
      const auto ls1 = static_cast<int16_t>(2 * ((sc[ib1 / 4] >> 3 * (ib1 % 4)) & 7) + 1);
      const auto ls2 = static_cast<int16_t>(2 * ((sc[ib2 / 4] >> 3 * (ib2 % 4)) & 7) + 1);
      // maddubs' int16 lanes 0..7 are the first 16 elements, 8..15 the second.
      isum[ib32 % 2] = AddScaledIq1Dot(isum[ib32 % 2], Iq1Values(index, shift), y[b].qs + 32 * ib32,
                                       HalvesScale(ls1, ls2));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.125f * HsumFloat8(acc);
}

// The Q8_K activations come from the lower ISA's converter (the registry keeps it when from_float is
// null); each entry repeats the activation format, as every SIMD entry must.
std::span<const TypeKernelEntry> DotIq1Here() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kIQ1_S, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ1_SQ8_K},
      {.type = GgmlType::kIQ1_M, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ1_MQ8_K},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
