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
  // Byte i takes source byte i / 8, then keeps its bit i % 8.
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(static_cast<int>(bits)),
      _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
  return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// sum over 4-byte groups of unsigned(a) * signed(b) -> 8 int32 (a < 128 or b != -128 in each pair so
// the int16 intermediate cannot saturate in the uses here).
inline __m256i DotU8I8ToI32(__m256i a, __m256i b) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

// Same for two signed vectors: |a| * sign-adjusted b (a != -128).
inline __m256i DotI8I8ToI32(__m256i a, __m256i b) {
  return DotU8I8ToI32(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

}  // namespace
}  // namespace quantlab::kernels_internal
