// Building blocks of the AVX-512 VNNI int8 panel kernels (gemm_int8_*_avx512.cc): 16x16 transposes
// that interleave weight rows 4 bytes per row, and the 4-byte activation broadcast. Include only from
// files compiled with the AVX-512 flags; everything is in an unnamed namespace, so each includer gets its
// own copy.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace quantlab::kernels_internal {
namespace {

// GCC 12's headers build the unmasked forms of these from an undefined vector and then warn
// (-Wmaybe-uninitialized) about it; the zero-masked forms with every lane selected are the same
// instruction.
constexpr __mmask16 kAll16 = 0xFFFF;
constexpr __mmask8 kAll8 = 0xFF;
inline __m512i UnpackLo32(__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi32(kAll16, a, b); }
inline __m512i UnpackHi32(__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi32(kAll16, a, b); }
inline __m512i UnpackLo64(__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi64(kAll8, a, b); }
inline __m512i UnpackHi64(__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi64(kAll8, a, b); }
template <int kImm>
inline __m512i Shuffle128(__m512i a, __m512i b) {
  return _mm512_maskz_shuffle_i32x4(kAll16, a, b, kImm);
}
inline __m512 ToFloat(__m512i v) { return _mm512_maskz_cvtepi32_ps(kAll16, v); }

// r[i] holds 16 int32 of row i; afterwards r[k] holds int32 k of rows 0..15.
void Transpose16x16(__m512i (&r)[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = UnpackLo32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = UnpackHi32(r[2 * i], r[2 * i + 1]);
  }
  // Per 128-bit lane L, u[4i + k] holds column 4L + k of rows 4i..4i+3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = UnpackLo64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = UnpackHi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = UnpackLo64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = UnpackHi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512i even01 = Shuffle128<0x88>(u[k], u[4 + k]);  // lanes 0, 2 of rows 0..7
    const __m512i even23 = Shuffle128<0x88>(u[8 + k], u[12 + k]);
    const __m512i odd01 = Shuffle128<0xDD>(u[k], u[4 + k]);  // lanes 1, 3
    const __m512i odd23 = Shuffle128<0xDD>(u[8 + k], u[12 + k]);
    r[k] = Shuffle128<0x88>(even01, even23);
    r[8 + k] = Shuffle128<0xDD>(even01, even23);
    r[4 + k] = Shuffle128<0x88>(odd01, odd23);
    r[12 + k] = Shuffle128<0xDD>(odd01, odd23);
  }
}

inline __m512i Broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

}  // namespace
}  // namespace quantlab::kernels_internal
