// The i-quants that take Q8_K activations (IQ4_XS, IQ3_XXS, IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M)
// unpacked into the K-quants'
// common form (UnpackedSuperBlock, kquants_unpack.inc.h), so the batched K-quant kernels run them
// unchanged: the AVX-512 VNNI panels (gemm_int8_iquants_avx512.cc) and the AVX2 tile
// (gemm_iquants_avx2.cc).
//
// Every i-quant value is a small signed integer (a table or grid value times a sign) times an integer
// sub-block scale times one float per super-block. The common form wants unsigned bytes, so each value is
// stored as value + kOffset (kOffset > the largest |value|), and the offset comes back out through Q8_K's
// bsums: sum_e scale(e) * value[e] * y[e] = sum_e scale(e) * q[e] * y[e] - kOffset * sum_s scale_s *
// bsums[s], i.e. bsum_d[s] = -kOffset * scale_s. The integer sum per super-block is then exactly the
// vec_dot's; the format's final constant (ggml's 0.25 for IQ3_XXS, 0.125 for IQ2_S, powers of two, so
// exact) is folded into d.
//
// Adding an i-quant: write its Unpack<TYPE> below (one super-block at a time is enough: the panels call
// it per super-block), then list it in gemm_int8_iquants_avx512.cc (and gemm_iquants_avx2.cc if its
// q[e] * y pairs fit maddubs' int16: q <= 127).
//
// Include only from files compiled with AVX2 flags; everything is in an unnamed namespace, and the
// unpackers are inline so an includer that lists only some of them does not warn about the others.
#pragma once

#include "quantlab/kernels/kquants_unpack.inc.h"
#include "quantlab/kernels/lattice_values.inc.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq3_grids.h"

namespace quantlab::kernels_internal {
namespace {

// 32 bytes of grid magnitudes with their signs applied (a sign byte spread to 8 bytes of +1 / -1 per 8
// elements), plus the offset: value + offset as unsigned bytes.
inline __m256i OffsetSigned(__m256i magnitudes, const uint8_t (&sign_bytes)[4], int offset) {
  const auto& spread = iq3::kSignBytes;
  const __m256i s = _mm256_set_epi64x(
      static_cast<int64_t>(spread[sign_bytes[3]]), static_cast<int64_t>(spread[sign_bytes[2]]),
      static_cast<int64_t>(spread[sign_bytes[1]]), static_cast<int64_t>(spread[sign_bytes[0]]));
  return _mm256_add_epi8(_mm256_sign_epi8(magnitudes, s), _mm256_set1_epi8(static_cast<char>(offset)));
}

// 8 packed 4-byte grid points -> 32 bytes.
inline __m256i GridPoints4(const uint32_t* grid, const int (&index)[8]) {
  return _mm256_setr_epi32(static_cast<int>(grid[index[0]]), static_cast<int>(grid[index[1]]),
                           static_cast<int>(grid[index[2]]), static_cast<int>(grid[index[3]]),
                           static_cast<int>(grid[index[4]]), static_cast<int>(grid[index[5]]),
                           static_cast<int>(grid[index[6]]), static_cast<int>(grid[index[7]]));
}

// Offsets of the signs' removal: bsum_d[s] = -offset * scale of 16-element group s.
inline void SetOffsetCoefs(UnpackedSuperBlock& u, __m256i scales16, int offset) {
  Store32(u.bsum_d, _mm256_mullo_epi16(scales16, _mm256_set1_epi16(static_cast<int16_t>(-offset))));
  Store32(u.bsum_min, _mm256_setzero_si256());
  u.dmin = 0;
}

// 8 int16 scales, one per 32 elements, also as 16 (one per 16 elements, each repeated).
inline __m256i RepeatPerSixteen(__m128i scales8) {
  return _mm256_setr_m128i(_mm_unpacklo_epi16(scales8, scales8), _mm_unpackhi_epi16(scales8, scales8));
}

// IQ4_XS: kIq4nlValues (-127..113) + 128 in 1..241; scale ls - 32 per 32 elements. The bytes exceed 127,
// so AVX-512 only.
constexpr int kIQ4_XSOffset = 128;
inline void UnpackIQ4_XS(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ4_XS*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i table = _mm256_add_epi8(
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues))),
      _mm256_set1_epi8(static_cast<char>(kIQ4_XSOffset)));
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    alignas(16) int16_t scales[8];
    for (int ib = 0; ib < 8; ++ib) {
      Store32(u.q + 32 * ib, _mm256_shuffle_epi8(table, NibblesLowThenHigh(x[b].qs + 16 * ib)));
      const int ls = ((x[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[b].scales_h >> 2 * ib) & 3) << 4);
      scales[ib] = static_cast<int16_t>(ls - 32);
    }
    const __m128i scales8 = _mm_load_si128(reinterpret_cast<const __m128i*>(scales));
    SetScaleSingles(u, scales8);
    SetOffsetCoefs(u, RepeatPerSixteen(scales8), kIQ4_XSOffset);
    u.d = HalfToFloat(x[b].d);
  }
}

// IQ3_XXS: grid values 4..62 with signs, + 64 in 2..126; scale 2 ls + 1 per 32 elements; ggml's final
// 0.25 in d.
constexpr int kIQ3_XXSOffset = 64;
inline void UnpackIQ3_XXS(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ3_XXS*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const uint8_t* qs = x[b].qs;
    alignas(16) int16_t scales[8];
    for (int ib = 0; ib < 8; ++ib) {
      const uint32_t word = LoadWord(qs + kQK_K / 4 + 4 * ib);
      int index[8];
      for (int k = 0; k < 8; ++k) index[k] = qs[8 * ib + k];
      uint8_t signs[4];
      for (int l = 0; l < 4; ++l) signs[l] = iq3::kSignsFromSeven[(word >> 7 * l) & 127];
      Store32(u.q + 32 * ib, OffsetSigned(GridPoints4(iq3::kXxsGrid.data(), index), signs, kIQ3_XXSOffset));
      scales[ib] = static_cast<int16_t>(2 * (word >> 28) + 1);
    }
    const __m128i scales8 = _mm_load_si128(reinterpret_cast<const __m128i*>(scales));
    SetScaleSingles(u, scales8);
    SetOffsetCoefs(u, RepeatPerSixteen(scales8), kIQ3_XXSOffset);
    u.d = 0.25f * HalfToFloat(x[b].d);
  }
}

// IQ3_S: grid values 1..15 with signs, + 16 in 1..31; scale 2 ls + 1 per 32 elements.
constexpr int kIQ3_SOffset = 16;
inline void UnpackIQ3_S(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ3_S*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const BlockIQ3_S& blk = x[b];
    alignas(16) int16_t scales[8];
    for (int ib = 0; ib < 8; ++ib) {
      int index[8];
      for (int k = 0; k < 8; ++k) index[k] = blk.qs[8 * ib + k] | (((blk.qh[ib] >> k) & 1) << 8);
      const uint8_t signs[4] = {blk.signs[4 * ib], blk.signs[4 * ib + 1], blk.signs[4 * ib + 2],
                                blk.signs[4 * ib + 3]};
      Store32(u.q + 32 * ib, OffsetSigned(GridPoints4(iq3::kSGrid.data(), index), signs, kIQ3_SOffset));
      scales[ib] = static_cast<int16_t>(2 * ((blk.scales[ib / 2] >> 4 * (ib % 2)) & 0xf) + 1);
    }
    const __m128i scales8 = _mm_load_si128(reinterpret_cast<const __m128i*>(scales));
    SetScaleSingles(u, scales8);
    SetOffsetCoefs(u, RepeatPerSixteen(scales8), kIQ3_SOffset);
    u.d = HalfToFloat(blk.d);
  }
}

// IQ2_S: grid values 8, 25, 43 with signs, + 43 in 0..86; scale 2 ls + 1 per 16 elements; ggml's final
// 0.125 in d.
constexpr int kIQ2_SOffset = 43;
inline void UnpackIQ2_S(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ2_S*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const BlockIQ2_S& blk = x[b];
    alignas(32) int16_t scales[16];
    for (int ib32 = 0; ib32 < 8; ++ib32) {
      int64_t points[4];
      uint8_t signs[4];
      for (int l = 0; l < 4; ++l) {
        const int g = 4 * ib32 + l;
        points[l] = static_cast<int64_t>(iq2::kSGrid[blk.qs[g] | (((blk.qh[ib32] >> 2 * l) & 3) << 8)]);
        signs[l] = blk.qs[kQK_K / 8 + g];
      }
      const __m256i magnitudes = _mm256_setr_epi64x(points[0], points[1], points[2], points[3]);
      Store32(u.q + 32 * ib32, OffsetSigned(magnitudes, signs, kIQ2_SOffset));
      scales[2 * ib32] = static_cast<int16_t>(2 * (blk.scales[ib32] & 0xf) + 1);
      scales[2 * ib32 + 1] = static_cast<int16_t>(2 * (blk.scales[ib32] >> 4) + 1);
    }
    // SetScalePairs wants 16-element scales 0..7 in the low 128 bits and 8..15 in the high ones: the
    // array's order.
    const __m256i scales16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(scales));
    SetScalePairs(u, scales16);
    SetOffsetCoefs(u, scales16, kIQ2_SOffset);
    u.d = 0.125f * HalfToFloat(blk.d);
  }
}

// IQ2_XXS: grid values 8, 25, 43 with signs (7-bit codes), + 43 in 0..86; scale 2 ls + 1 per 32
// elements; ggml's final 0.125 in d.
constexpr int kIQ2_XXSOffset = 43;
inline void UnpackIQ2_XXS(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ2_XXS*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const auto* qs = reinterpret_cast<const uint8_t*>(x[b].qs);
    alignas(16) int16_t scales[8];
    for (int ib32 = 0; ib32 < 8; ++ib32) {
      const uint32_t codes = LoadWord(qs + 8 * ib32 + 4);
      uint8_t signs[4];
      for (int l = 0; l < 4; ++l) signs[l] = iq3::kSignsFromSeven[(codes >> 7 * l) & 127];
      Store32(u.q + 32 * ib32, OffsetSigned(Iq2XxsMagnitudes(qs, ib32), signs, kIQ2_XXSOffset));
      scales[ib32] = static_cast<int16_t>(2 * (codes >> 28) + 1);
    }
    const __m128i scales8 = _mm_load_si128(reinterpret_cast<const __m128i*>(scales));
    SetScaleSingles(u, scales8);
    SetOffsetCoefs(u, RepeatPerSixteen(scales8), kIQ2_XXSOffset);
    u.d = 0.125f * HalfToFloat(x[b].d);
  }
}

// IQ2_XS: the same values from a 512-point grid (one 16-bit entry per 8 elements: index | code << 9), a
// scale 2 ls + 1 per 16 elements; ggml's final 0.125 in d.
constexpr int kIQ2_XSOffset = 43;
inline void UnpackIQ2_XS(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ2_XS*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const BlockIQ2_XS& blk = x[b];
    alignas(32) int16_t scales[16];
    for (int ib32 = 0; ib32 < 8; ++ib32) {
      const uint16_t* entry = blk.qs + 4 * ib32;
      const uint8_t signs[4] = {iq3::kSignsFromSeven[entry[0] >> 9], iq3::kSignsFromSeven[entry[1] >> 9],
                                iq3::kSignsFromSeven[entry[2] >> 9], iq3::kSignsFromSeven[entry[3] >> 9]};
      Store32(u.q + 32 * ib32, OffsetSigned(Iq2XsMagnitudes(entry), signs, kIQ2_XSOffset));
      scales[2 * ib32] = static_cast<int16_t>(2 * (blk.scales[ib32] & 0xf) + 1);
      scales[2 * ib32 + 1] = static_cast<int16_t>(2 * (blk.scales[ib32] >> 4) + 1);
    }
    const __m256i scales16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(scales));
    SetScalePairs(u, scales16);
    SetOffsetCoefs(u, scales16, kIQ2_XSOffset);
    u.d = 0.125f * HalfToFloat(blk.d);
  }
}

// IQ1_S / IQ1_M: 8 g + s in -9..9 (lattice_values.inc.h), + 9 in 0..18, with d / 8.
constexpr int kIQ1Offset = 9;
inline __m256i Iq1Offset(__m256i values) { return _mm256_add_epi8(values, _mm256_set1_epi8(kIQ1Offset)); }

// IQ1_S: four grid indices (8 + 3 bits), a 3-bit scale and one shift sign per 32 elements.
inline void UnpackIQ1_S(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ1_S*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const BlockIQ1_S& blk = x[b];
    alignas(16) int16_t scales[8];
    for (int ib = 0; ib < 8; ++ib) {
      Store32(u.q + 32 * ib, Iq1Offset(Iq1SValues(blk, ib)));
      scales[ib] = static_cast<int16_t>(Iq1SBlockScale(blk, ib));
    }
    const __m128i scales8 = _mm_load_si128(reinterpret_cast<const __m128i*>(scales));
    SetScaleSingles(u, scales8);
    SetOffsetCoefs(u, RepeatPerSixteen(scales8), kIQ1Offset);
    u.d = 0.125f * HalfToFloat(blk.d);
  }
}

// IQ1_M: two groups per 16 elements (a qh byte holds each one's 3 high index bits and shift sign), a
// 3-bit scale per 16 elements, and the fp16 d spread over the four scale words' top nibbles.
inline void UnpackIQ1_M(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ1_M*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    const BlockIQ1_M& blk = x[b];
    uint16_t sc[4];
    Iq1MScaleWords(blk, sc);
    const fp16_t d = Iq1MSuperScale(sc);
    alignas(32) int16_t scales[16];
    for (int ib32 = 0; ib32 < 8; ++ib32) Store32(u.q + 32 * ib32, Iq1Offset(Iq1MValues(blk, ib32)));
    for (int ib = 0; ib < 16; ++ib) scales[ib] = static_cast<int16_t>(Iq1MBlockScale(sc, ib));
    const __m256i scales16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(scales));
    SetScalePairs(u, scales16);
    SetOffsetCoefs(u, scales16, kIQ1Offset);
    u.d = 0.125f * HalfToFloat(d);
  }
}

}  // namespace
}  // namespace quantlab::kernels_internal
