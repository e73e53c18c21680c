// fp16 <-> float rows with the F16C instructions (compiled with the AVX2/F16C flags; called only after a
// cpuid check). fp16 -> float is exact for every value; NaNs are left to the scalar conversion so their
// bits stay those of util/fp16.h.
// float -> fp16: F16C rounds to nearest even exactly like util/fp16.h for every non-NaN float (checked
// exhaustively, see tests/util/fp16_test.cc); NaNs are then rewritten to ggml's 0x7E00 | sign, where
// F16C would keep the payload.
#include <immintrin.h>

#include <cstdint>

#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {

void QuantizeF16Avx2(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    __m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
    // NaN lanes (unordered with themselves) get 0x7E00 with their sign.
    const __m256 nan_mask = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
    if (!_mm256_testz_ps(nan_mask, nan_mask)) {
      alignas(32) uint16_t lanes[8];
      _mm_store_si128(reinterpret_cast<__m128i*>(lanes), h);
      for (int k = 0; k < 8; ++k) lanes[k] = Fp32ToFp16(x[i + k]);
      h = _mm_load_si128(reinterpret_cast<const __m128i*>(lanes));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

void DequantizeF16Avx2(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    // Exponent all ones (Inf or NaN) in any lane: the scalar path decides.
    const __m128i exponent = _mm_and_si128(h, _mm_set1_epi16(0x7C00));
    if (!_mm_testz_si128(_mm_cmpeq_epi16(exponent, _mm_set1_epi16(0x7C00)), _mm_set1_epi16(-1))) {
      for (int k = 0; k < 8; ++k) y[i + k] = Fp16ToFp32(x[i + k]);
      continue;
    }
    _mm256_storeu_ps(y + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) y[i] = Fp16ToFp32(x[i]);
}

}  // namespace quantlab::quant_internal
