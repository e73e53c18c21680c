// AVX2 dot product of IQ4_XS weights with Q8_K activations. Per 256-element super-block, two 32-element
// blocks at a time: the nibbles index the 16-entry non-linear table with one byte shuffle, the signed
// table values meet the activation bytes in DotI8I8ToI32 (no table value is -128), each block's int32
// lanes are multiplied by its 6-bit scale minus 32 and summed exactly; the super-block's float scale is
// applied with one FMA into a float vector accumulator.
//
// Included by dot_iq4_xs_avx2.cc and dot_iq4_xs_avx512.cc, each compiled with its own ISA flags; all in
// an unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

float DotIQ4_XSQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint32_t scales_l = LoadWord(x[b].scales_l);
    const uint32_t scales_h = x[b].scales_h;
    __m256i isum = _mm256_setzero_si256();
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int ls = static_cast<int>(((scales_l >> 4 * ib) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4)) - 32;
      const __m256i q = _mm256_shuffle_epi8(table, NibblesLowThenHigh(x[b].qs + 16 * ib));
      const __m256i p = DotI8I8ToI32(q, LoadBytes32(y[b].qs + 32 * ib));
      isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(p, _mm256_set1_epi32(ls)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * y[b].d), _mm256_cvtepi32_ps(isum), acc);
  }
  return HsumFloat8(acc);
}

// The Q8_K activations come from the lower ISA's converter (the registry keeps it when from_float is
// null); the entry repeats the activation format, as every SIMD entry must.
std::span<const TypeKernelEntry> DotIq4XsHere() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kIQ4_XS, .vec_dot_type = GgmlType::kQ8_K, .vec_dot = DotIQ4_XSQ8_K},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
