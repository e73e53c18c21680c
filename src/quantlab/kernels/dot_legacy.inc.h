// AVX2 dot products of the 32-element formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) with Q8_0/Q8_1
// activations, and the Q8_0/Q8_1 activation quantizers. One block per step: 32 weights expanded to bytes,
// an exact int32 block sum from maddubs/madd (or VNNI), then one FMA with the block's float scale.
//
// Included by dot_legacy_avx2.cc and dot_legacy_avx512.cc, each compiled with its own ISA flags; all in
// an unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

// Runs `term(weight_block, activation_block, acc, min_acc)` over all blocks with two independent
// accumulator pairs (one FMA per block would otherwise be a latency-bound chain), returns their sum.
template <typename BW, typename BA, typename Term>
float SumOverBlocks(int64_t n, const void* w, const void* a, Term term) {
  const auto* x = static_cast<const BW*>(w);
  const auto* y = static_cast<const BA*>(a);
  const int64_t nb = n / 32;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float min0 = 0, min1 = 0;
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    term(x[b], y[b], acc0, min0);
    term(x[b + 1], y[b + 1], acc1, min1);
  }
  if (b < nb) term(x[b], y[b], acc0, min0);
  return HsumFloat8(_mm256_add_ps(acc0, acc1)) + (min0 + min1);
}

inline void AddScaledSum(__m256i isum, float d, __m256& acc) {
  acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
}

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Q4_0 / Q5_0 weights are signed after removing their offset; Q4_1 / Q5_1 stay unsigned, and their
// offset m contributes m * s (s = d_a * sum of the activation block, stored in Q8_1).
float DotQ4_0Q8_0(int64_t n, const void* w, const void* a) {
  return SumOverBlocks<BlockQ4_0, BlockQ8_0>(
      n, w, a, [](const BlockQ4_0& x, const BlockQ8_0& y, __m256& acc, float&) {
        const __m256i q = _mm256_sub_epi8(NibblesLowThenHigh(x.qs), _mm256_set1_epi8(8));
        AddScaledSum(DotI8I8ToI32(q, LoadBytes32(y.qs)), HalfToFloat(x.d) * HalfToFloat(y.d), acc);
      });
}

// IQ4_NL: each nibble indexes the 16-level table, one byte shuffle per block.
float DotIQ4_NLQ8_0(int64_t n, const void* w, const void* a) {
  const __m256i table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  return SumOverBlocks<BlockIQ4_NL, BlockQ8_0>(
      n, w, a, [table](const BlockIQ4_NL& x, const BlockQ8_0& y, __m256& acc, float&) {
        const __m256i q = _mm256_shuffle_epi8(table, NibblesLowThenHigh(x.qs));
        AddScaledSum(DotI8I8ToI32(q, LoadBytes32(y.qs)), HalfToFloat(x.d) * HalfToFloat(y.d), acc);
      });
}

float DotQ4_1Q8_1(int64_t n, const void* w, const void* a) {
  return SumOverBlocks<BlockQ4_1, BlockQ8_1>(
      n, w, a, [](const BlockQ4_1& x, const BlockQ8_1& y, __m256& acc, float& min_acc) {
        AddScaledSum(DotU8I8ToI32(NibblesLowThenHigh(x.qs), LoadBytes32(y.qs)),
                     HalfToFloat(x.d) * HalfToFloat(y.d), acc);
        min_acc += HalfToFloat(x.m) * HalfToFloat(y.s);
      });
}

float DotQ5_0Q8_0(int64_t n, const void* w, const void* a) {
  return SumOverBlocks<BlockQ5_0, BlockQ8_0>(
      n, w, a, [](const BlockQ5_0& x, const BlockQ8_0& y, __m256& acc, float&) {
        // value = q + 16*bit - 16: where the fifth bit is clear, q - 16 is q with the top nibble 0xF0.
        const __m256i clear = _mm256_andnot_si256(BitsToByteMask(LoadU32(x.qh)), _mm256_set1_epi8(-16));
        const __m256i q = _mm256_or_si256(NibblesLowThenHigh(x.qs), clear);
        AddScaledSum(DotI8I8ToI32(q, LoadBytes32(y.qs)), HalfToFloat(x.d) * HalfToFloat(y.d), acc);
      });
}

float DotQ5_1Q8_1(int64_t n, const void* w, const void* a) {
  return SumOverBlocks<BlockQ5_1, BlockQ8_1>(
      n, w, a, [](const BlockQ5_1& x, const BlockQ8_1& y, __m256& acc, float& min_acc) {
        const __m256i high = _mm256_and_si256(BitsToByteMask(LoadU32(x.qh)), _mm256_set1_epi8(16));
        const __m256i q = _mm256_or_si256(NibblesLowThenHigh(x.qs), high);
        AddScaledSum(DotU8I8ToI32(q, LoadBytes32(y.qs)), HalfToFloat(x.d) * HalfToFloat(y.d), acc);
        min_acc += HalfToFloat(x.m) * HalfToFloat(y.s);
      });
}

float DotQ8_0Q8_0(int64_t n, const void* w, const void* a) {
  return SumOverBlocks<BlockQ8_0, BlockQ8_0>(
      n, w, a, [](const BlockQ8_0& x, const BlockQ8_0& y, __m256& acc, float&) {
        AddScaledSum(DotI8I8ToI32(LoadBytes32(x.qs), LoadBytes32(y.qs)), HalfToFloat(x.d) * HalfToFloat(y.d),
                     acc);
      });
}

// llama.cpp's x86 activation rule (see activation_quant.cc): scale 127/amax, round half to even.
// Returns the 32 values as int32 in four vectors, and d.
float QuantizeBlock32(const float* x, __m256i* v) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 f[4];
  __m256 amax = _mm256_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    f[i] = _mm256_loadu_ps(x + 8 * i);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, f[i]));
  }
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  const float max_abs = _mm_cvtss_f32(m);
  const __m256 inverse = _mm256_set1_ps(max_abs != 0.0f ? 127.f / max_abs : 0.0f);
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_cvtps_epi32(
        _mm256_round_ps(_mm256_mul_ps(f[i], inverse), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  return max_abs / 127.f;
}

void StoreInt8(const __m256i* v, int8_t* dst) {
  const __m256i words01 = _mm256_packs_epi32(v[0], v[1]);
  const __m256i words23 = _mm256_packs_epi32(v[2], v[3]);
  const __m256i bytes = _mm256_packs_epi16(words01, words23);
  // The packs interleave 128-bit lanes; restore element order.
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst),
                      _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
}

void QuantizeActivationQ8_0(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    __m256i v[4];
    y[b].d = _cvtss_sh(QuantizeBlock32(src + b * kQK8_0, v), 0);
    StoreInt8(v, y[b].qs);
  }
}

void QuantizeActivationQ8_1(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    __m256i v[4];
    const float d = QuantizeBlock32(src + b * kQK8_1, v);
    const int sum = HsumInt8(_mm256_add_epi32(_mm256_add_epi32(v[0], v[1]), _mm256_add_epi32(v[2], v[3])));
    y[b].d = _cvtss_sh(d, 0);
    y[b].s = _cvtss_sh(d * static_cast<float>(sum), 0);
    StoreInt8(v, y[b].qs);
  }
}

std::span<const TypeKernelEntry> DotLegacyHere() {
  constexpr GgmlType kQ8_0 = GgmlType::kQ8_0, kQ8_1 = GgmlType::kQ8_1;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ4_0,
       .vec_dot_type = kQ8_0,
       .from_float = QuantizeActivationQ8_0,
       .vec_dot = DotQ4_0Q8_0},
      {.type = GgmlType::kIQ4_NL,
       .vec_dot_type = kQ8_0,
       .from_float = QuantizeActivationQ8_0,
       .vec_dot = DotIQ4_NLQ8_0},
      {.type = GgmlType::kQ4_1,
       .vec_dot_type = kQ8_1,
       .from_float = QuantizeActivationQ8_1,
       .vec_dot = DotQ4_1Q8_1},
      {.type = GgmlType::kQ5_0,
       .vec_dot_type = kQ8_0,
       .from_float = QuantizeActivationQ8_0,
       .vec_dot = DotQ5_0Q8_0},
      {.type = GgmlType::kQ5_1,
       .vec_dot_type = kQ8_1,
       .from_float = QuantizeActivationQ8_1,
       .vec_dot = DotQ5_1Q8_1},
      {.type = GgmlType::kQ8_0,
       .vec_dot_type = kQ8_0,
       .from_float = QuantizeActivationQ8_0,
       .vec_dot = DotQ8_0Q8_0},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
