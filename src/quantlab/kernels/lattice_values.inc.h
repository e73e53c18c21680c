// The lattice i-quants' values for 32 elements at a time, shared by the per-row dots (dot_iq3.inc.h,
// dot_iq1.inc.h) and the batched unpack (iquants_unpack.inc.h).
//
// IQ2_XXS / IQ2_XS: the grid magnitudes (8, 25, 43) of four 8-element groups as unsigned bytes; their
// signs are 7-bit codes the callers apply.
//
// IQ1_S / IQ1_M: the elements as signed bytes. An element is d * (2 ls + 1) * (g + s / 8) with g in {-1, 0,
// 1} (iq1_grids.h) and a shift sign s = +-1 per 32 elements (IQ1_S) or per 8 (IQ1_M), so 8 g + s is an exact
// integer in -9..9 and d / 8 carries the rest.
//
// Include only from files compiled with AVX2 flags; everything is inline in an unnamed namespace.
#pragma once

#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/iq1_grids.h"
#include "quantlab/quant/iq2_grids.h"

namespace quantlab::kernels_internal {
namespace {

// IQ2_XXS, groups 4 ib32 .. 4 ib32 + 3: their grid indices are the bytes of the first of the 32-element
// block's two words (`qs` is the block's bytes).
inline __m256i Iq2XxsMagnitudes(const uint8_t* qs, int ib32) {
  const uint32_t indices = LoadWord(qs + 8 * ib32);
  return _mm256_setr_epi64x(static_cast<int64_t>(iq2::kXxsGrid[indices & 0xff]),
                            static_cast<int64_t>(iq2::kXxsGrid[(indices >> 8) & 0xff]),
                            static_cast<int64_t>(iq2::kXxsGrid[(indices >> 16) & 0xff]),
                            static_cast<int64_t>(iq2::kXxsGrid[indices >> 24]));
}

// IQ2_XS, the four 16-bit entries of 32 elements: grid index in the low 9 bits.
inline __m256i Iq2XsMagnitudes(const uint16_t* entry) {
  return _mm256_setr_epi64x(
      static_cast<int64_t>(iq2::kXsGrid[entry[0] & 511]), static_cast<int64_t>(iq2::kXsGrid[entry[1] & 511]),
      static_cast<int64_t>(iq2::kXsGrid[entry[2] & 511]), static_cast<int64_t>(iq2::kXsGrid[entry[3] & 511]));
}

// 8 g + s for four 8-element groups: grid points (int8 -1, 0, 1 per byte) and per-group shifts (+-1).
inline __m256i Iq1Values(const int (&index)[4], const int (&shift)[4]) {
  const __m256i g = _mm256_setr_epi64x(
      static_cast<int64_t>(iq1::kGrid[index[0]]), static_cast<int64_t>(iq1::kGrid[index[1]]),
      static_cast<int64_t>(iq1::kGrid[index[2]]), static_cast<int64_t>(iq1::kGrid[index[3]]));
  // +1 or -1 in every byte of a group.
  const auto spread = [&](int l) -> int64_t { return shift[l] < 0 ? -1 : 0x0101010101010101; };
  const __m256i s = _mm256_setr_epi64x(spread(0), spread(1), spread(2), spread(3));
  return _mm256_add_epi8(_mm256_sign_epi8(_mm256_set1_epi8(8), g), s);
}

// IQ1_S, elements 32 ib .. 32 ib + 31: four grid indices (8 low bits in qs, 3 high bits in qh) and one
// shift sign (qh's top bit).
inline __m256i Iq1SValues(const BlockIQ1_S& blk, int ib) {
  const uint16_t qh = blk.qh[ib];
  const int s = qh & 0x8000 ? -1 : 1;
  int index[4];
  for (int l = 0; l < 4; ++l) index[l] = blk.qs[4 * ib + l] | (((qh >> 3 * l) & 7) << 8);
  const int shift[4] = {s, s, s, s};
  return Iq1Values(index, shift);
}

// IQ1_M, elements 32 ib32 .. 32 ib32 + 31: a qh byte per two groups holds each one's 3 high index bits
// and its shift sign.
inline __m256i Iq1MValues(const BlockIQ1_M& blk, int ib32) {
  int index[4], shift[4];
  for (int l = 0; l < 4; ++l) {
    const int bits = blk.qh[2 * ib32 + l / 2] >> 4 * (l % 2);
    index[l] = blk.qs[4 * ib32 + l] | ((bits & 7) << 8);
    shift[l] = bits & 8 ? -1 : 1;
  }
  return Iq1Values(index, shift);
}

}  // namespace
}  // namespace quantlab::kernels_internal
