// ggml's AVX-512 formulation of the vectorised exp (see activation_math.h): the same reduction and
// polynomial as the AVX2 one, but p(b) ~ e^b (the 1 folded into the last step) and the scaling by 2^n
// done by vscalefps, which handles the range ends itself; |n| > 192 saturates to 0 or infinity.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

__m512 Exp16(__m512 x) {
  const __m512 shifter = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), shifter);
  const __m512 n = _mm512_sub_ps(z, shifter);
  const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                                    _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __mmask16 saturate = _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
  const __m512 b2 = _mm512_mul_ps(b, b);
  const __m512 high = _mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b, _mm512_set1_ps(0x1.573e2ep-5f));
  const __m512 mid = _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b, _mm512_set1_ps(0x1.fffdb6p-2f));
  const __m512 low = _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0f));
  const __m512 p = _mm512_fmadd_ps(_mm512_fmadd_ps(high, b2, mid), b2, low);
  // (maskz with all lanes: the unmasked intrinsic trips GCC 12's -Wmaybe-uninitialized in its header.)
  const __m512 result = _mm512_maskz_scalef_ps(static_cast<__mmask16>(0xFFFF), p, n);
  if (saturate == 0) return result;
  const __mmask16 non_positive = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(), _CMP_LE_OQ);
  const __m512 limit = _mm512_mask_blend_ps(non_positive, _mm512_set1_ps(INFINITY), _mm512_setzero_ps());
  return _mm512_mask_blend_ps(saturate, result, limit);
}

void SiluMulRowAvx512(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(gate + i);
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
    const __m512 silu = _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1), e));
    _mm512_storeu_ps(gate + i, _mm512_mul_ps(silu, _mm512_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
}

double ExpShiftedAvx512(const float* x, float max, float* y, int64_t n) {
  double sum = 0;
  const __m512 m = _mm512_set1_ps(max);
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t count = std::min<int64_t>(16, n - i);
    const __mmask16 mask = static_cast<__mmask16>((1u << count) - 1);
    const __m512 e = Exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(mask, x + i), m));
    _mm512_mask_storeu_ps(y + i, mask, e);
    alignas(64) float lanes[16];
    _mm512_store_ps(lanes, e);
    for (int64_t k = 0; k < count; ++k) sum += lanes[k];
  }
  return sum;
}

}  // namespace

ActivationMath ActivationMathAvx512() {
  return {.silu_mul_row = SiluMulRowAvx512, .exp_shifted = ExpShiftedAvx512};
}

}  // namespace quantlab::kernels_internal
