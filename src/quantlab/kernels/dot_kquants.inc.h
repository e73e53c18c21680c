// AVX2 dot products of the K-quants (Q2_K..Q6_K) with Q8_K activations. Per 256-element super-block:
// the weights are expanded 32 at a time to bytes, multiplied with the activation bytes by maddubs (u8 x
// i8 -> i16 pairs), weighted by the sub-block scales with madd (i16 x i16 -> i32, scales broadcast by
// byte shuffles), and summed exactly in int32 lanes; the super-block's float scale is applied with one
// FMA into a float vector accumulator (no horizontal sums inside the loop). Min / offset terms use the
// activation's per-16 sums (bsums).
//
// Included by dot_kquants_avx2.cc and dot_kquants_avx512.cc, each compiled with its own ISA flags (with
// VNNI, madd + add become vpdpwssd); all in an unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

inline __m256i LoadBsums(const BlockQ8_K& y) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y.bsums));
}

// 8 int16 scales (a 128-bit register) in both lanes of a 256-bit register.
inline __m256i BothLanes(__m128i v) { return _mm256_broadcastsi128_si256(v); }

float DotQ2_KQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask2 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  __m256 acc_min = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i sc_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    const __m128i scales8 = _mm_and_si128(sc_bytes, _mm_set1_epi8(0x0F));
    const __m128i mins8 = _mm_and_si128(_mm_srli_epi16(sc_bytes, 4), _mm_set1_epi8(0x0F));
    const __m256i min_prod = _mm256_madd_epi16(_mm256_cvtepu8_epi16(mins8), LoadBsums(y[b]));
    const __m256i scales_half[2] = {BothLanes(_mm_cvtepu8_epi16(scales8)),
                                    BothLanes(_mm_cvtepu8_epi16(_mm_srli_si128(scales8, 8)))};
    __m256i isum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        const int chunk = 4 * half + group;  // elements 32*chunk .. +31, sub-blocks 2*chunk, 2*chunk+1
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2);
        const __m256i p = _mm256_maddubs_epi16(q, LoadBytes32(y[b].qs + 32 * chunk));
        isum = AddScaled(isum, p, ScalePair(scales_half[half], group));
      }
    }
    const float dall = y[b].d * HalfToFloat(x[b].d);
    const float dmin = y[b].d * HalfToFloat(x[b].dmin);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dall), _mm256_cvtepi32_ps(isum), acc);
    acc_min = _mm256_fmadd_ps(_mm256_set1_ps(dmin), _mm256_cvtepi32_ps(min_prod), acc_min);
  }
  return HsumFloat8(acc) - HsumFloat8(acc_min);
}

float DotQ3_KQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask2 = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i scales8 = UnpackQ3KScalesVector(x[b].scales);
    const __m256i scales_half[2] = {BothLanes(_mm_cvtepi8_epi16(scales8)),
                                    BothLanes(_mm_cvtepi8_epi16(_mm_srli_si128(scales8, 8)))};
    // value = u - 4 with u = low + 4 * high bit (0..7, unsigned for maddubs); the -4 goes through the
    // activation's sums: isum starts at -4 * sum_s scale_s * bsums_s.
    const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scales8), LoadBsums(y[b]));
    __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 2));
    const __m256i hmask = LoadBytes32(x[b].hmask);
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        const int chunk = 4 * half + group;
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2);
        // Bit `chunk` of each hmask byte moved to bit 2 (value 4): one shift (none for chunk 2) and a mask.
        const __m256i moved = chunk < 2   ? _mm256_slli_epi16(hmask, 2 - chunk)
                              : chunk > 2 ? _mm256_srli_epi16(hmask, chunk - 2)
                                          : hmask;
        const __m256i high = _mm256_and_si256(moved, _mm256_set1_epi8(4));
        const __m256i p = _mm256_maddubs_epi16(_mm256_or_si256(low, high), LoadBytes32(y[b].qs + 32 * chunk));
        isum = AddScaled(isum, p, ScalePair(scales_half[half], group));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * y[b].d), _mm256_cvtepi32_ps(isum), acc);
  }
  return HsumFloat8(acc);
}

template <bool kFifthBit, typename Block>
float DotQ45K(int64_t n, const Block* x, const BlockQ8_K* y) {
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i scales_mins = UnpackK4ScalesMins(x[b].scales);
    // Mins: one per 32 elements, so each covers two bsums; pair the bsums up first.
    const __m256i bsums = LoadBsums(y[b]);
    const __m128i bsums32 = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
    const __m128i min_prod = _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8)), bsums32);
    const __m256i scales = BothLanes(_mm_cvtepu8_epi16(scales_mins));
    __m256i high_bits = _mm256_setzero_si256();
    if constexpr (kFifthBit) high_bits = LoadBytes32(x[b].qh);
    // Two accumulators: independent dependency chains for the multiply-accumulates.
    __m256i isum_lo = _mm256_setzero_si256(), isum_hi = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high nibbles)
      const __m256i bytes = LoadBytes32(x[b].qs + 32 * j);
      __m256i lo = _mm256_and_si256(bytes, mask4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask4);
      if constexpr (kFifthBit) {
        // high_bits is shifted right by 2j so far: bit 0 / bit 1 of each byte are bits 2j / 2j+1.
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(high_bits, _mm256_set1_epi8(1)), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(high_bits, _mm256_set1_epi8(2)), 3));
        high_bits = _mm256_srli_epi16(high_bits, 2);
      }
      const __m256i p_lo = _mm256_maddubs_epi16(lo, LoadBytes32(y[b].qs + 64 * j));
      const __m256i p_hi = _mm256_maddubs_epi16(hi, LoadBytes32(y[b].qs + 64 * j + 32));
      isum_lo = AddScaled(isum_lo, p_lo, ScaleSingle(scales, 2 * j));
      isum_hi = AddScaled(isum_hi, p_hi, ScaleSingle(scales, 2 * j + 1));
    }
    const __m256i isum = _mm256_add_epi32(isum_lo, isum_hi);
    const float d = HalfToFloat(x[b].d) * y[b].d;
    const float dmin = HalfToFloat(x[b].dmin) * y[b].d;
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
    acc_min = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_prod), acc_min);
  }
  __m128 m = _mm_add_ps(acc_min, _mm_movehl_ps(acc_min, acc_min));
  m = _mm_add_ss(m, _mm_movehdup_ps(m));
  return HsumFloat8(acc) - _mm_cvtss_f32(m);
}

float DotQ4_KQ8_K(int64_t n, const void* w, const void* a) {
  return DotQ45K<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float DotQ5_KQ8_K(int64_t n, const void* w, const void* a) {
  return DotQ45K<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float DotQ6_KQ8_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const __m128i scales8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    // The stored values are offset by 32: subtract 32 * sum_s scale_s * bsums_s once per super-block.
    const __m256i offset = _mm256_madd_epi16(_mm256_cvtepi8_epi16(scales8), LoadBsums(y[b]));
    __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5));
    const __m256i scales_half[2] = {BothLanes(_mm_cvtepi8_epi16(scales8)),
                                    BothLanes(_mm_cvtepi8_epi16(_mm_srli_si128(scales8, 8)))};
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const __m256i qh = LoadBytes32(x[b].qh + 32 * half);
      const __m256i ql0 = LoadBytes32(ql), ql1 = LoadBytes32(ql + 32);
      __m256i q[4];
      q[0] = _mm256_or_si256(_mm256_and_si256(ql0, mask4), _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4));
      q[1] = _mm256_or_si256(_mm256_and_si256(ql1, mask4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4));
      q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4));
      q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask4),
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4));
      for (int g = 0; g < 4; ++g) {
        const __m256i p = _mm256_maddubs_epi16(q[g], LoadBytes32(y[b].qs + 32 * (4 * half + g)));
        isum = AddScaled(isum, p, ScalePair(scales_half[half], g));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(HalfToFloat(x[b].d) * y[b].d), _mm256_cvtepi32_ps(isum), acc);
  }
  return HsumFloat8(acc);
}

// Q8_K activation quantizer, byte-identical to quant/'s reference (ggml's quantize_row_q8_K_ref): the
// signed value of the first element of largest magnitude sets iscale = -127 / max; values are
// iscale * x rounded to nearest even (the reference's magic-number rounding, exact in this range),
// capped at 127; bsums are the sums of 16; d = 1 / iscale.
void QuantizeActivationQ8_K(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    __m256 amax8 = _mm256_setzero_ps();
    for (int i = 0; i < kQK_K; i += 8)
      amax8 = _mm256_max_ps(amax8, _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float amax = _mm_cvtss_f32(m);
    BlockQ8_K& out = y[b];
    if (amax == 0.0f) {
      out.d = 0;
      std::memset(out.qs, 0, sizeof(out.qs));
      std::memset(out.bsums, 0, sizeof(out.bsums));
      continue;
    }
    // The first element whose magnitude is amax decides the sign.
    float max = 0;
    const __m256 target = _mm256_set1_ps(amax);
    for (int i = 0; i < kQK_K; i += 8) {
      const int hits = _mm256_movemask_ps(
          _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask), target, _CMP_EQ_OQ));
      if (hits != 0) {
        max = x[i + __builtin_ctz(static_cast<unsigned>(hits))];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 scale = _mm256_set1_ps(iscale);
    const __m256i cap = _mm256_set1_epi32(127);
    for (int i = 0; i < kQK_K; i += 32) {
      __m256i v[4];
      for (int k = 0; k < 4; ++k) {
        v[k] =
            _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(scale, _mm256_loadu_ps(x + i + 8 * k))), cap);
      }
      const __m256i words =
          _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
      const __m256i bytes = _mm256_permutevar8x32_epi32(words, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out.qs + i), bytes);
      // Sums of 16: widen to int16 and add adjacent pairs down.
      const __m256i ones = _mm256_set1_epi16(1);
      const __m256i lo = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_castsi256_si128(bytes)), ones);
      const __m256i hi = _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm256_extracti128_si256(bytes, 1)), ones);
      // lo holds 8 pair sums of elements i..i+15, hi of i+16..i+31.
      out.bsums[i / 16] = static_cast<int16_t>(HsumInt8(lo));
      out.bsums[i / 16 + 1] = static_cast<int16_t>(HsumInt8(hi));
    }
    out.d = 1 / iscale;
  }
}

std::span<const TypeKernelEntry> DotKQuantsHere() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ2_K,
       .vec_dot_type = kQ8_K,
       .from_float = QuantizeActivationQ8_K,
       .vec_dot = DotQ2_KQ8_K},
      {.type = GgmlType::kQ3_K,
       .vec_dot_type = kQ8_K,
       .from_float = QuantizeActivationQ8_K,
       .vec_dot = DotQ3_KQ8_K},
      {.type = GgmlType::kQ4_K,
       .vec_dot_type = kQ8_K,
       .from_float = QuantizeActivationQ8_K,
       .vec_dot = DotQ4_KQ8_K},
      {.type = GgmlType::kQ5_K,
       .vec_dot_type = kQ8_K,
       .from_float = QuantizeActivationQ8_K,
       .vec_dot = DotQ5_KQ8_K},
      {.type = GgmlType::kQ6_K,
       .vec_dot_type = kQ8_K,
       .from_float = QuantizeActivationQ8_K,
       .vec_dot = DotQ6_KQ8_K},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
