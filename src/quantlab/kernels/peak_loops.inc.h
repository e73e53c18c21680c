// The compute-peak loops (peak_loops.h), compiled once per ISA by peak_loops_avx2.cc and
// peak_loops_avx512.cc. kChains independent accumulators cover the latency of the instruction on every
// port that runs it (4-5 cycles x 2 ports); the result is folded and returned through an opaque store so
// the compiler cannot drop the work.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

constexpr int kChains = 12;

#if defined(__AVX512F__)
using FVec = __m512;
using IVec = __m512i;
constexpr int kFloatLanes = 16;
inline FVec FSet(float v) { return _mm512_set1_ps(v); }
inline FVec FFma(FVec a, FVec b, FVec c) { return _mm512_fmadd_ps(a, b, c); }
inline FVec FAdd(FVec a, FVec b) { return _mm512_add_ps(a, b); }
inline float FFirst(FVec v) { return _mm512_cvtss_f32(v); }
inline IVec ISet(int v) { return _mm512_set1_epi32(v); }
inline IVec IAdd(IVec a, IVec b) { return _mm512_add_epi32(a, b); }
inline int IFirst(IVec v) {
  alignas(64) int lanes[16];
  _mm512_store_si512(lanes, v);  // (not a cast: GCC 12's header trips -Wuninitialized on those)
  return lanes[0];
}
// acc + 4 byte products per 32-bit lane.
inline IVec IDot(IVec acc, IVec a, IVec b) { return _mm512_dpbusd_epi32(acc, a, b); }
constexpr double kInt8OpsPerDot = 2.0 * 64;
#else
using FVec = __m256;
using IVec = __m256i;
constexpr int kFloatLanes = 8;
inline FVec FSet(float v) { return _mm256_set1_ps(v); }
inline FVec FFma(FVec a, FVec b, FVec c) { return _mm256_fmadd_ps(a, b, c); }
inline FVec FAdd(FVec a, FVec b) { return _mm256_add_ps(a, b); }
inline float FFirst(FVec v) { return _mm256_cvtss_f32(v); }
inline IVec ISet(int v) { return _mm256_set1_epi32(v); }
inline IVec IAdd(IVec a, IVec b) { return _mm256_add_epi32(a, b); }
inline int IFirst(IVec v) { return _mm_cvtsi128_si32(_mm256_castsi256_si128(v)); }
// The AVX2 sequence of the int8 kernels (simd_avx2.h's DotU8I8ToI32 without VNNI).
inline IVec IDot(IVec acc, IVec a, IVec b) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}
constexpr double kInt8OpsPerDot = 2.0 * 32;
#endif

volatile float g_float_sink;
volatile int g_int_sink;

double PeakF32Fma(int64_t iterations) {
  FVec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = FSet(static_cast<float>(c));
  const FVec a = FSet(0.999f), b = FSet(1e-3f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = FFma(acc[c], a, b);
  }
  FVec sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = FAdd(sum, acc[c]);
  g_float_sink = FFirst(sum);
  return 2.0 * kFloatLanes * kChains * static_cast<double>(iterations);
}

double PeakInt8Dot(int64_t iterations) {
  IVec acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = ISet(c);
  const IVec a = ISet(0x01020304), b = ISet(0x01FF01FF);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = IDot(acc[c], a, b);
  }
  IVec sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = IAdd(sum, acc[c]);
  g_int_sink = IFirst(sum);
  return kInt8OpsPerDot * kChains * static_cast<double>(iterations);
}

}  // namespace
}  // namespace quantlab::kernels_internal
