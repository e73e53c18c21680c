// ggml's AVX2 formulation of the vectorised exp (see activation_math.h): n = round(x / ln 2) by the
// 1.5 * 2^23 shifter, b = x - n ln 2 in two parts, a degree-5 polynomial p with p(b) ~ e^b - 1, and
// e^x = 2^n + 2^n p(b), the power of two built in the exponent bits; |n| > 126 splits the scale in two
// factors so that results near the float range's ends neither overflow early nor lose subnormals, and
// |n| > 192 saturates to 0 or infinity.
#include <immintrin.h>

#include <cmath>

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"

namespace quantlab::kernels_internal {
namespace {

__m256 Exp8(__m256 x) {
  const __m256 shifter = _mm256_set1_ps(0x1.8p23f);
  const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), shifter);
  const __m256 n = _mm256_sub_ps(z, shifter);
  const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                    _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
  const __m256i exponent = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
  const __m256 two_n =
      _mm256_castsi256_ps(_mm256_add_epi32(exponent, _mm256_castps_si256(_mm256_set1_ps(1))));
  const __m256 abs_n = _mm256_andnot_ps(_mm256_set1_ps(-0.f), n);
  const __m256 wide = _mm256_cmp_ps(abs_n, _mm256_set1_ps(126), _CMP_GT_OQ);
  const __m256 b2 = _mm256_mul_ps(b, b);
  const __m256 high = _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f));
  const __m256 mid = _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f));
  const __m256 p =
      _mm256_fmadd_ps(_mm256_fmadd_ps(high, b2, mid), b2, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
  if (_mm256_movemask_ps(wide) == 0) return _mm256_fmadd_ps(p, two_n, two_n);
  // 2^n = s1 * s2 with s1 = 2^(+-127) (0x7f000000, or 0x01000000 for n <= 0) and s2 the rest.
  const __m256i negative = _mm256_and_si256(
      _mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)), _mm256_set1_epi32(0x82000000u));
  const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(negative, _mm256_set1_epi32(0x7f000000)));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(exponent, negative));
  const __m256 saturate = _mm256_cmp_ps(abs_n, _mm256_set1_ps(192), _CMP_GT_OQ);
  const __m256 split = _mm256_mul_ps(_mm256_fmadd_ps(s2, p, s2), s1);
  const __m256 normal = _mm256_fmadd_ps(two_n, p, two_n);
  const __m256 in_range = _mm256_blendv_ps(normal, split, wide);
  return _mm256_blendv_ps(in_range, _mm256_mul_ps(s1, s1), saturate);
}

void SiluMulRowAvx2(float* gate, const float* up, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(gate + i);
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_setzero_ps(), x));
    const __m256 silu = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1), e));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(silu, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = (gate[i] / (1.0f + std::exp(-gate[i]))) * up[i];
}

double ExpShiftedAvx2(const float* x, float max, float* y, int64_t n) {
  double sum = 0;
  int64_t i = 0;
  const __m256 m = _mm256_set1_ps(max);
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
    _mm256_storeu_ps(y + i, e);
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, e);
    for (float v : lanes) sum += v;
  }
  if (i < n) {
    alignas(32) float tail[8] = {};
    for (int64_t k = i; k < n; ++k) tail[k - i] = x[k];
    alignas(32) float out[8];
    _mm256_store_ps(out, Exp8(_mm256_sub_ps(_mm256_load_ps(tail), m)));
    for (int64_t k = i; k < n; ++k) {
      y[k] = out[k - i];
      sum += y[k];
    }
  }
  return sum;
}

}  // namespace

ActivationMath ActivationMathAvx2() {
  return {.silu_mul_row = SiluMulRowAvx2, .exp_shifted = ExpShiftedAvx2};
}

}  // namespace quantlab::kernels_internal
