// AVX2 dot products of the 1-bit lattice i-quants (IQ1_S, IQ1_M) with Q8_K activations. Their elements
// as signed bytes 8 g + s in -9..9 (lattice_values.inc.h): one byte dot per 32 elements (maddubs, then the
// int16 scale with vpdpwssd) gives the scaled sum (8 g + s) * y exactly, and the float part
// d_w * d_a / 8 comes last. Per super-block the integer is the scalar reference's 8 * sum + shift_sum
// (dot_lattice_scalar.cc), so only the order of the float additions over super-blocks differs.
//
// Included by dot_iq1_avx2.cc and dot_iq1_avx512.cc, each compiled with its own ISA flags; all in an
// unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/lattice_values.inc.h"
#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

// acc + sum over pairs of (8 g + s) * y, times an int16 scale per pair lane: |8 g + s| <= 9, so the
// int16 pair sums of maddubs cannot saturate; with VNNI the scaling is one vpdpwssd.
inline __m256i AddScaledIq1Dot(__m256i acc, __m256i values, const int8_t* q8, __m256i scales16) {
  const __m256i p =
      _mm256_maddubs_epi16(_mm256_sign_epi8(values, values), _mm256_sign_epi8(LoadBytes32(q8), values));
  return AddScaled(acc, p, scales16);
}

// IQ1_S: a 3-bit scale per 32 elements (qh bits 12..14).
float DotIQ1_SQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_S*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_S& blk = x[b];
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int ls = Iq1SBlockScale(blk, ib);
      isum[ib % 2] = AddScaledIq1Dot(isum[ib % 2], Iq1SValues(blk, ib), y[b].qs + 32 * ib,
                                     _mm256_set1_epi16(static_cast<int16_t>(ls)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(blk.d) * y[b].d),
                          _mm256_cvtepi32_ps(_mm256_add_epi32(isum[0], isum[1])), acc);
  }
  return 0.125f * HsumFloat8(acc);
}

// IQ1_M: a 3-bit scale per 16 elements and the super-block's fp16 d in the four scale words (blocks.h).
float DotIQ1_MQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ1_M*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const BlockIQ1_M& blk = x[b];
    uint16_t sc[4];
    Iq1MScaleWords(blk, sc);
    const fp16_t d = Iq1MSuperScale(sc);
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};  // two chains
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const int ib1 = 2 * ib32, ib2 = 2 * ib32 + 1;
      const auto ls1 = static_cast<int16_t>(Iq1MBlockScale(sc, ib1));
      const auto ls2 = static_cast<int16_t>(Iq1MBlockScale(sc, ib2));
      // maddubs' int16 lanes 0..7 are the first 16 elements, 8..15 the second.
      isum[ib32 % 2] =
          AddScaledIq1Dot(isum[ib32 % 2], Iq1MValues(blk, ib32), y[b].qs + 32 * ib32, HalvesScale(ls1, ls2));
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
