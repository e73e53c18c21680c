// Small AVX2 building blocks shared by the *_avx2.cc and *_avx512.cc kernels. Include only from files
// compiled with AVX2 flags. Everything is in an unnamed namespace so each ISA file gets its own copy
// (no inline function compiled with wider flags can be picked by the linker for a narrower file).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace quantlab::kernels_internal {
namespace {

inline float HsumFloat8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int HsumInt8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i LoadBytes32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 packed bytes of nibbles -> 32 bytes: low nibbles in bytes 0..15, high nibbles in 16..31 (the order
// of the Q4_0/Q4_1/Q5_x blocks).
inline __m256i NibblesLowThenHigh(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 32 bits -> 32 bytes, byte i = 0xFF if bit i is set, else 0.
inline __m256i BitsToByteMask(uint32_t bits) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  return _mm256_movm_epi8(static_cast<__mmask32>(bits));
#else
  // Byte i takes source byte i / 8, then keeps its bit i % 8.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
#endif
}

// Compiled into both the AVX2 and the AVX-512 files: with AVX-512 VNNI (+VL) flags the 256-bit VNNI
// instructions replace two-instruction sequences; results are identical because no intermediate of the
// AVX2 sequence saturates in the uses here.
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define QUANTLAB_KERNELS_VNNI 1
#endif

// sum over 4-byte groups of unsigned(a) * signed(b) -> 8 int32 (a < 128 or b != -128 in each pair so
// the int16 intermediate of the AVX2 sequence cannot saturate in the uses here).
inline __m256i DotU8I8ToI32(__m256i a, __m256i b) {
#if defined(QUANTLAB_KERNELS_VNNI)
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
#endif
}

// acc + madd(p, scales): int16 pairs times int16 scales, summed into int32 lanes.
inline __m256i AddScaled(__m256i acc, __m256i p, __m256i scales) {
#if defined(QUANTLAB_KERNELS_VNNI)
  return _mm256_dpwssd_epi32(acc, p, scales);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, scales));
#endif
}

// int16 lanes 0..7 = lo, 8..15 = hi (one broadcast per 128-bit half, not 16 inserts): the scales of
// the two 16-element halves of 32 elements for maddubs' pair sums.
inline __m256i HalvesScale(int16_t lo, int16_t hi) {
  return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(lo)), _mm_set1_epi16(hi), 1);
}

// Same for two signed vectors: |a| * sign-adjusted b (a != -128).
inline __m256i DotI8I8ToI32(__m256i a, __m256i b) {
  return DotU8I8ToI32(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

inline uint32_t LoadWord(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Q4_K / Q5_K: the 12 packed bytes -> 16 bytes: scales of sub-blocks 0..7, then mins 0..7 (6 bits each),
// all at once with word operations: byte j (j < 8) is quant_internal::GetScaleMinK4(j)'s scale, byte 8 + j
// its min (quant/k_scales.h defines the layout).
inline __m128i UnpackK4ScalesMins(const uint8_t* packed) {
  const uint32_t w0 = LoadWord(packed), w1 = LoadWord(packed + 4), w2 = LoadWord(packed + 8);
  const uint32_t scales_lo = w0 & 0x3F3F3F3Fu;
  const uint32_t mins_lo = w1 & 0x3F3F3F3Fu;
  const uint32_t scales_hi = (w2 & 0x0F0F0F0Fu) | (((w0 >> 6) & 0x03030303u) << 4);
  const uint32_t mins_hi = ((w2 >> 4) & 0x0F0F0F0Fu) | (((w1 >> 6) & 0x03030303u) << 4);
  return _mm_setr_epi32(static_cast<int>(scales_lo), static_cast<int>(scales_hi), static_cast<int>(mins_lo),
                        static_cast<int>(mins_hi));
}

// Q3_K: the 12 packed bytes -> 16 signed scales (int8), byte s = quant_internal::GetScaleQ3K(s), all at
// once with word operations (quant/k_scales.h defines the layout).
inline __m128i UnpackQ3KScalesVector(const uint8_t* packed) {
  const uint32_t a0 = LoadWord(packed), a1 = LoadWord(packed + 4), t = LoadWord(packed + 8);
  const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
  const __m128i biased = _mm_setr_epi32(static_cast<int>((a0 & m4) | ((t & m2) << 4)),
                                        static_cast<int>((a1 & m4) | (((t >> 2) & m2) << 4)),
                                        static_cast<int>(((a0 >> 4) & m4) | (((t >> 4) & m2) << 4)),
                                        static_cast<int>(((a1 >> 4) & m4) | (((t >> 6) & m2) << 4)));
  return _mm_sub_epi8(biased, _mm_set1_epi8(32));
}

// Shuffle controls for broadcasting int16 scales (from a register holding the same 8 int16 in both
// 128-bit lanes): kScaleShuffle.single[j] puts lane j everywhere; kScaleShuffle.pair[k] puts lane 2k in
// the low half and lane 2k+1 in the high half (a 32-element chunk spanning two 16-element sub-blocks).
struct ScaleShuffleTables {
  alignas(32) int8_t single[8][32];
  alignas(32) int8_t pair[4][32];
};

constexpr ScaleShuffleTables MakeScaleShuffleTables() {
  ScaleShuffleTables t{};
  for (int j = 0; j < 8; ++j) {
    for (int i = 0; i < 32; ++i) t.single[j][i] = static_cast<int8_t>(2 * j + i % 2);
  }
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 32; ++i) t.pair[k][i] = static_cast<int8_t>(2 * (2 * k + (i >= 16)) + i % 2);
  }
  return t;
}

inline constexpr ScaleShuffleTables kScaleShuffle = MakeScaleShuffleTables();

inline __m256i ScaleSingle(__m256i scales16x2, int j) {
  return _mm256_shuffle_epi8(scales16x2,
                             _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleShuffle.single[j])));
}

inline __m256i ScalePair(__m256i scales16x2, int k) {
  return _mm256_shuffle_epi8(scales16x2,
                             _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleShuffle.pair[k])));
}

}  // namespace
}  // namespace quantlab::kernels_internal
