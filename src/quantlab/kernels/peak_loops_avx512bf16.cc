// The bf16 compute-peak loop (vdpbf16ps: 16 lanes x 2 multiply-adds), for CPUs with AVX512-BF16 (see
// peak_loops.inc.h; registry_avx512.cc adds it where CpuHasAvx512Bf16()).
#include <immintrin.h>

#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

constexpr int kChains = 12;
volatile float g_sink;

double PeakBf16Dot(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3F803F80);  // (1.0, 1.0)
  const __m512bh b = (__m512bh)_mm512_set1_epi32(0x3A833A83);  // (~1e-3, ~1e-3)
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbf16_ps(acc[c], a, b);
  }
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c]);
  g_sink = _mm512_cvtss_f32(sum);
  return 2.0 * 32 * kChains * static_cast<double>(iterations);
}

}  // namespace

PeakLoops PeakLoopsAvx512Bf16() { return {.bf16_dot = PeakBf16Dot}; }

}  // namespace quantlab::kernels_internal
