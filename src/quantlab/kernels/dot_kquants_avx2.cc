// AVX2 dot products of the K-quants (Q2_K..Q6_K) with Q8_K activations. Per 256-element super-block:
// the weights are expanded 32 at a time to bytes, multiplied with the activation bytes by maddubs (u8 x
// i8 -> i16 pairs), weighted by the sub-block scales with madd (i16 x i16 -> i32), and summed exactly in
// int32; the super-block's float scale is applied once. Min / offset terms use the activation's
// per-16 sums (bsums).
#include "quantlab/kernels/kernel_impl.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

// int16 scale vector for a 32-element chunk spanning two 16-element sub-blocks: s_lo in the low 128-bit
// lane (elements 0..15 -> maddubs lanes 0..7), s_hi in the high lane.
inline __m256i ScalePair(int s_lo, int s_hi) {
  return _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(s_hi)),
                          _mm_set1_epi16(static_cast<int16_t>(s_lo)));
}

// sum_s bsums[s] * weights[s] over the 16 sub-blocks (weights as 16 int16).
inline int BsumsDot(const int16_t* bsums, __m256i weights16) {
  return HsumInt8(_mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(bsums)), weights16));
}

float DotQ2_KQ8_KAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask2 = _mm256_set1_epi8(3);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* sc = x[b].scales;
    const __m128i sc_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sc));
    const __m256i mins16 =
        _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc_bytes, 4), _mm_set1_epi8(0x0F)));
    const int min_sum = BsumsDot(y[b].bsums, mins16);
    __m256i isum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        const int chunk = 4 * half + group;  // elements 32*chunk .. +31
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2);
        const __m256i p = _mm256_maddubs_epi16(q, LoadBytes32(y[b].qs + 32 * chunk));
        const __m256i scales = ScalePair(sc[2 * chunk] & 0xF, sc[2 * chunk + 1] & 0xF);
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, scales));
      }
    }
    const float dall = y[b].d * HalfToFloat(x[b].d);
    const float dmin = y[b].d * HalfToFloat(x[b].dmin);
    sum += dall * static_cast<float>(HsumInt8(isum)) - dmin * static_cast<float>(min_sum);
  }
  return sum;
}

float DotQ3_KQ8_KAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask2 = _mm256_set1_epi8(3);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t scales[16];
    UnpackQ3KScales(x[b].scales, scales);
    const __m256i hmask = LoadBytes32(x[b].hmask);
    __m256i isum = _mm256_setzero_si256();
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        const int chunk = 4 * half + group;
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2);
        // 4 where the high bit (bit `chunk` of hmask) is clear: value = low - 4 * clear.
        const __m256i hbit = _mm256_and_si256(hmask, _mm256_set1_epi8(static_cast<char>(1 << chunk)));
        const __m256i four_if_clear = _mm256_andnot_si256(
            _mm256_cmpeq_epi8(hbit, _mm256_set1_epi8(static_cast<char>(1 << chunk))), _mm256_set1_epi8(4));
        const __m256i q8 = LoadBytes32(y[b].qs + 32 * chunk);
        const __m256i p =
            _mm256_sub_epi16(_mm256_maddubs_epi16(low, q8), _mm256_maddubs_epi16(four_if_clear, q8));
        isum =
            _mm256_add_epi32(isum, _mm256_madd_epi16(p, ScalePair(scales[2 * chunk], scales[2 * chunk + 1])));
      }
    }
    sum += HalfToFloat(x[b].d) * y[b].d * static_cast<float>(HsumInt8(isum));
  }
  return sum;
}

// Q4_K / Q5_K: eight sub-blocks of 32 with 6-bit scales and mins.
struct ScalesMins {
  uint8_t scales[8];
  __m256i mins16;  // min of sub-block s/2 for each 16-group s
};

inline ScalesMins UnpackK4(const uint8_t* packed) {
  ScalesMins out;
  alignas(32) int16_t mins16[16];
  for (int j = 0; j < 8; ++j) {
    uint8_t m;
    UnpackScaleMinK4(packed, j, &out.scales[j], &m);
    mins16[2 * j] = mins16[2 * j + 1] = m;
  }
  out.mins16 = _mm256_load_si256(reinterpret_cast<const __m256i*>(mins16));
  return out;
}

template <bool kFifthBit, typename Block>
float DotQ45KAvx2(int64_t n, const Block* x, const BlockQ8_K* y) {
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const ScalesMins sm = UnpackK4(x[b].scales);
    const int min_sum = BsumsDot(y[b].bsums, sm.mins16);
    __m256i high_bits = _mm256_setzero_si256();
    if constexpr (kFifthBit) high_bits = LoadBytes32(x[b].qh);
    __m256i isum = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {  // 64 elements: sub-blocks 2j (low nibbles) and 2j+1 (high nibbles)
      const __m256i bytes = LoadBytes32(x[b].qs + 32 * j);
      __m256i lo = _mm256_and_si256(bytes, mask4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask4);
      if constexpr (kFifthBit) {
        const __m256i one = _mm256_set1_epi8(1);
        lo = _mm256_or_si256(
            lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high_bits, 2 * j), one), 4));
        hi = _mm256_or_si256(
            hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high_bits, 2 * j + 1), one), 4));
      }
      const __m256i p_lo = _mm256_maddubs_epi16(lo, LoadBytes32(y[b].qs + 64 * j));
      const __m256i p_hi = _mm256_maddubs_epi16(hi, LoadBytes32(y[b].qs + 64 * j + 32));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_lo, _mm256_set1_epi16(sm.scales[2 * j])));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p_hi, _mm256_set1_epi16(sm.scales[2 * j + 1])));
    }
    const float d = HalfToFloat(x[b].d) * y[b].d;
    const float dmin = HalfToFloat(x[b].dmin) * y[b].d;
    sum += d * static_cast<float>(HsumInt8(isum)) - dmin * static_cast<float>(min_sum);
  }
  return sum;
}

float DotQ4_KQ8_KAvx2(int64_t n, const void* w, const void* a) {
  return DotQ45KAvx2<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float DotQ5_KQ8_KAvx2(int64_t n, const void* w, const void* a) {
  return DotQ45KAvx2<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float DotQ6_KQ8_KAvx2(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const int8_t* sc = x[b].scales;
    // The stored values are offset by 32: subtract 32 * sum_s scale_s * bsums_s once.
    const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
    const int offset_sum = BsumsDot(y[b].bsums, scales16);
    __m256i isum = _mm256_setzero_si256();
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
        const int chunk = 4 * half + g;
        const __m256i p = _mm256_maddubs_epi16(q[g], LoadBytes32(y[b].qs + 32 * chunk));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, ScalePair(sc[2 * chunk], sc[2 * chunk + 1])));
      }
    }
    const int total = HsumInt8(isum) - 32 * offset_sum;
    sum += HalfToFloat(x[b].d) * y[b].d * static_cast<float>(total);
  }
  return sum;
}

}  // namespace

std::span<const KernelOverride> KQuantAvx2Kernels() {
  static const KernelOverride kernels[] = {
      {GgmlType::kQ2_K, nullptr, nullptr, DotQ2_KQ8_KAvx2, {}},
      {GgmlType::kQ3_K, nullptr, nullptr, DotQ3_KQ8_KAvx2, {}},
      {GgmlType::kQ4_K, nullptr, nullptr, DotQ4_KQ8_KAvx2, {}},
      {GgmlType::kQ5_K, nullptr, nullptr, DotQ5_KQ8_KAvx2, {}},
      {GgmlType::kQ6_K, nullptr, nullptr, DotQ6_KQ8_KAvx2, {}},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
