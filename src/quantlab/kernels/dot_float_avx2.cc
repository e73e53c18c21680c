// AVX2 + F16C + FMA kernels for the float formats: F16, BF16 and F32 dot products (four independent
// float accumulators of 8 lanes, 32 elements per step, the tail in double as the reference does), and the
// F16 row conversions (the F16C conversion rounds to nearest even, the same bits as Fp32ToFp16).
#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"

namespace quantlab::kernels_internal {
namespace {

inline __m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256 LoadBF16(const uint16_t* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

inline float Bf16Scalar(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Loads 8 elements of T as floats: LoadF(p) with p an element pointer.
template <typename T, __m256 (*LoadF)(const T*), float (*ToFloat)(T)>
float DotFloatLike(int64_t n, const void* w, const void* a) {
  const T* x = static_cast<const T*>(w);
  const T* y = static_cast<const T*>(a);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(LoadF(x + i + 8 * k), LoadF(y + i + 8 * k), acc[k]);
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(LoadF(x + i), LoadF(y + i), acc[0]);
  double sum = HsumFloat8(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += static_cast<double>(ToFloat(x[i]) * ToFloat(y[i]));
  return static_cast<float>(sum);
}

inline __m256 LoadF32(const float* p) { return _mm256_loadu_ps(p); }
inline float IdentityF32(float v) { return v; }

float DotF16F16Avx2(int64_t n, const void* w, const void* a) {
  return DotFloatLike<uint16_t, LoadF16, HalfToFloat>(n, w, a);
}
float DotBF16BF16Avx2(int64_t n, const void* w, const void* a) {
  return DotFloatLike<uint16_t, LoadBF16, Bf16Scalar>(n, w, a);
}
float DotF32F32Avx2(int64_t n, const void* w, const void* a) {
  return DotFloatLike<float, LoadF32, IdentityF32>(n, w, a);
}

void F16ToFloatAvx2(const void* src, float* dst, int64_t n) {
  const auto* x = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, LoadF16(x + i));
  for (; i < n; ++i) dst[i] = HalfToFloat(x[i]);
}

void FloatToF16Avx2(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = _cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT);
}

}  // namespace

std::span<const TypeKernelEntry> DotFloatAvx2() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kF16,
       .vec_dot_type = GgmlType::kF16,
       .to_float = F16ToFloatAvx2,
       .from_float = FloatToF16Avx2,
       .vec_dot = DotF16F16Avx2},
      {.type = GgmlType::kBF16, .vec_dot_type = GgmlType::kBF16, .vec_dot = DotBF16BF16Avx2},
      {.type = GgmlType::kF32, .vec_dot_type = GgmlType::kF32, .vec_dot = DotF32F32Avx2},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
