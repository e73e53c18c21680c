// K-quant super-blocks (Q2_K..Q6_K) unpacked into one common form: unsigned bytes in element order,
// int16 scales in maddubs' broadcast order, and the bsums multipliers that carry each format's offset
// and mins. Shared by the AVX2 batched tile (gemm_kquants.inc.h) and the AVX-512 VNNI panels
// (gemm_int8_kquants_avx512.cc), which interleave these rows; the i-quants unpack into the same form
// (iquants_unpack.inc.h). Include only from files compiled with AVX2 flags; everything is in an unnamed
// namespace, so each includer gets its own copy (the unpackers are inline: includers that only need the
// form do not warn about them).
#pragma once

#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

// One 256-element super-block, unpacked. For every format:
//   dot = yd * (d * (sum_e scale(e) * q[e] * y[e] + sum_s bsum_d[s] * bsums[s])
//               - dmin * sum_s bsum_min[s] * bsums[s])
// with q unsigned (offsets of signed formats moved into bsum_d).
struct UnpackedSuperBlock {
  uint8_t q[kQK_K];
  // Chunk c (elements 32c..32c+31): int16 lanes 0..7 multiply elements 32c..32c+15 in maddubs' output
  // order, lanes 8..15 elements 32c+16..32c+31.
  int16_t scales[8][16];
  int16_t bsum_d[16];
  int16_t bsum_min[16];
  float d;
  float dmin;
  float pad[6];
};
static_assert(sizeof(UnpackedSuperBlock) == 608);

inline void Store32(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

// Scale vectors from 16 int16 scales, one per 16 elements (8 in each 128-bit half of `scales16`).
inline void SetScalePairs(UnpackedSuperBlock& u, __m256i scales16) {
  const __m256i halves[2] = {_mm256_permute2x128_si256(scales16, scales16, 0x00),
                             _mm256_permute2x128_si256(scales16, scales16, 0x11)};
  for (int c = 0; c < 8; ++c) Store32(u.scales[c], ScalePair(halves[c / 4], c % 4));
}

// Scale vectors from 8 int16 scales, one per 32 elements (Q4_K/Q5_K), in the low 128 bits.
inline void SetScaleSingles(UnpackedSuperBlock& u, __m128i scales8) {
  const __m256i both = _mm256_broadcastsi128_si256(scales8);
  for (int c = 0; c < 8; ++c) Store32(u.scales[c], ScaleSingle(both, c));
}

inline void UnpackQ2_K(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ2_K*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i mask2 = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        Store32(u.q + 32 * (4 * half + group), _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2));
      }
    }
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    SetScalePairs(u, _mm256_cvtepu8_epi16(_mm_and_si128(sc, _mm_set1_epi8(0x0F))));
    Store32(u.bsum_d, _mm256_setzero_si256());
    Store32(u.bsum_min, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0F))));
    u.d = HalfToFloat(x[b].d);
    u.dmin = HalfToFloat(x[b].dmin);
  }
}

inline void UnpackQ3_K(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ3_K*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i mask2 = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    // Stored as low + 4 * high bit (0..7); the value is that minus 4, moved into bsum_d.
    __m256i hmask = LoadBytes32(x[b].hmask);
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2);
        const __m256i high = _mm256_slli_epi16(_mm256_and_si256(hmask, _mm256_set1_epi8(1)), 2);
        hmask = _mm256_srli_epi16(hmask, 1);
        Store32(u.q + 32 * (4 * half + group), _mm256_or_si256(low, high));
      }
    }
    const __m256i scales16 = _mm256_cvtepi8_epi16(UnpackQ3KScalesVector(x[b].scales));
    SetScalePairs(u, scales16);
    Store32(u.bsum_d, _mm256_mullo_epi16(scales16, _mm256_set1_epi16(-4)));
    Store32(u.bsum_min, _mm256_setzero_si256());
    u.d = HalfToFloat(x[b].d);
    u.dmin = 0;
  }
}

template <bool kFifthBit, typename Block>
void UnpackQ45K(const Block* x, int64_t n, UnpackedSuperBlock* out) {
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    __m256i high_bits = _mm256_setzero_si256();
    if constexpr (kFifthBit) high_bits = LoadBytes32(x[b].qh);
    for (int j = 0; j < 4; ++j) {
      const __m256i bytes = LoadBytes32(x[b].qs + 32 * j);
      __m256i lo = _mm256_and_si256(bytes, mask4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask4);
      if constexpr (kFifthBit) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(high_bits, _mm256_set1_epi8(1)), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(high_bits, _mm256_set1_epi8(2)), 3));
        high_bits = _mm256_srli_epi16(high_bits, 2);
      }
      Store32(u.q + 64 * j, lo);
      Store32(u.q + 64 * j + 32, hi);
    }
    const __m128i scales_mins = UnpackK4ScalesMins(x[b].scales);
    SetScaleSingles(u, _mm_cvtepu8_epi16(scales_mins));
    // One min per 32 elements covers two bsums.
    const __m128i mins8 = _mm_srli_si128(scales_mins, 8);
    Store32(u.bsum_min, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins8, mins8)));
    Store32(u.bsum_d, _mm256_setzero_si256());
    u.d = HalfToFloat(x[b].d);
    u.dmin = HalfToFloat(x[b].dmin);
  }
}

inline void UnpackQ4_K(const void* row, int64_t n, void* dst) {
  UnpackQ45K<false>(static_cast<const BlockQ4_K*>(row), n, static_cast<UnpackedSuperBlock*>(dst));
}

inline void UnpackQ5_K(const void* row, int64_t n, void* dst) {
  UnpackQ45K<true>(static_cast<const BlockQ5_K*>(row), n, static_cast<UnpackedSuperBlock*>(dst));
}

inline void UnpackQ6_K(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ6_K*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const __m256i qh = LoadBytes32(x[b].qh + 32 * half);
      const __m256i ql0 = LoadBytes32(ql), ql1 = LoadBytes32(ql + 32);
      uint8_t* q = u.q + 128 * half;
      Store32(q, _mm256_or_si256(_mm256_and_si256(ql0, mask4),
                                 _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4)));
      Store32(q + 32,
              _mm256_or_si256(_mm256_and_si256(ql1, mask4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4)));
      Store32(q + 64,
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4)));
      Store32(q + 96,
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4)));
    }
    const __m256i scales16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
    SetScalePairs(u, scales16);
    Store32(u.bsum_d, _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), scales16), 5));
    Store32(u.bsum_min, _mm256_setzero_si256());
    u.d = HalfToFloat(x[b].d);
    u.dmin = 0;
  }
}
}  // namespace
}  // namespace quantlab::kernels_internal
