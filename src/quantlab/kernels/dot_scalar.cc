// Scalar reference dot products: the definition every SIMD kernel is tested against. Each computes what
// ggml's scalar vec_dot for the pair computes: integer sums per block are exact, then scaled by the
// block's float factors and summed in float (the float fields as ggml combines them: d_w * d_a, etc.).
// Float-only dots (F16, BF16, F32) accumulate in double, as ggml's scalar path does.
#include <cstring>

#include "quantlab/kernels/registry.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/k_scales.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::kernels_internal {
namespace {

// The 32 high bits of a Q5_0 / Q5_1 block, little-endian as ggml reads them.
uint32_t LoadQh(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  return bits;
}

// sum_i w[i] * a[i] over 32 elements of a Q4_x/Q5_x block, with the weight value of element i given by
// `value(i)` (already offset where the format has an offset).
template <typename ValueFn>
int DotBlock32(ValueFn value, const int8_t* a) {
  int sum = 0;
  for (int i = 0; i < 32; ++i) sum += value(i) * a[i];
  return sum;
}

}  // namespace

float DotQ4_0Q8_0Scalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK4_0 == 0);
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const uint8_t* qs = x[b].qs;
    // Low nibbles are elements 0..15, high nibbles 16..31; stored values are offset by 8.
    const int isum =
        DotBlock32([qs](int i) { return (i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4)) - 8; }, y[b].qs);
    sum += isum * Fp16ToFp32(x[b].d) * Fp16ToFp32(y[b].d);
  }
  return sum;
}

float DotIQ4_NLQ8_0Scalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK4_NL == 0);
  const auto* x = static_cast<const BlockIQ4_NL*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK4_NL; ++b) {
    const uint8_t* qs = x[b].qs;
    // Nibbles as Q4_0's, each an index into the non-linear table.
    const int isum = DotBlock32(
        [qs](int i) { return static_cast<int>(kIq4nlValues[i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4)]); },
        y[b].qs);
    sum += isum * Fp16ToFp32(x[b].d) * Fp16ToFp32(y[b].d);
  }
  return sum;
}

float DotQ4_1Q8_1Scalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK4_1 == 0);
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK4_1; ++b) {
    const uint8_t* qs = x[b].qs;
    const int isum = DotBlock32([qs](int i) { return i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4); }, y[b].qs);
    // x = d*q + m, so sum x*y = d*dy*sum(q*qy) + m*(dy*sum(qy)); the activation block stores the latter
    // factor as s.
    sum += (Fp16ToFp32(x[b].d) * Fp16ToFp32(y[b].d)) * isum + Fp16ToFp32(x[b].m) * Fp16ToFp32(y[b].s);
  }
  return sum;
}

float DotQ5_0Q8_0Scalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK5_0 == 0);
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    const uint8_t* qs = x[b].qs;
    const uint32_t qh = LoadQh(x[b].qh);
    const int isum = DotBlock32(
        [qs, qh](int i) {
          const int low = i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4);
          return (low | static_cast<int>(((qh >> i) & 1) << 4)) - 16;
        },
        y[b].qs);
    sum += isum * Fp16ToFp32(x[b].d) * Fp16ToFp32(y[b].d);
  }
  return sum;
}

float DotQ5_1Q8_1Scalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK5_1 == 0);
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK5_1; ++b) {
    const uint8_t* qs = x[b].qs;
    const uint32_t qh = LoadQh(x[b].qh);
    const int isum = DotBlock32(
        [qs, qh](int i) {
          const int low = i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4);
          return low | static_cast<int>(((qh >> i) & 1) << 4);
        },
        y[b].qs);
    sum += (Fp16ToFp32(x[b].d) * Fp16ToFp32(y[b].d)) * isum + Fp16ToFp32(x[b].m) * Fp16ToFp32(y[b].s);
  }
  return sum;
}

float DotQ8_0Q8_0Scalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK8_0 == 0);
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const int8_t* qs = x[b].qs;
    const int isum = DotBlock32([qs](int i) { return static_cast<int>(qs[i]); }, y[b].qs);
    sum += isum * (Fp16ToFp32(x[b].d) * Fp16ToFp32(y[b].d));
  }
  return sum;
}

// K-quants. Element e of a 256-element super-block belongs to sub-block e/16 (or e/32 for Q4_K/Q5_K);
// the integer sum sum_e scale(sub-block) * q_w(e) * q_a(e) is exact, the min term uses the activation's
// precomputed sums of 16 (bsums).

float DotQ2_KQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* sc = x[b].scales;
    int min_sum = 0;
    for (int s = 0; s < 16; ++s) min_sum += y[b].bsums[s] * (sc[s] >> 4);
    // Element 128*half + 32*shift_group + l takes bits 2*shift_group of qs[32*half + l].
    int isum = 0;
    for (int e = 0; e < kQK_K; ++e) {
      const int half = e / 128, group = (e % 128) / 32, l = e % 32;
      const int q = (x[b].qs[32 * half + l] >> (2 * group)) & 3;
      isum += (sc[e / 16] & 0xF) * q * y[b].qs[e];
    }
    const float dall = y[b].d * Fp16ToFp32(x[b].d);
    const float dmin = y[b].d * Fp16ToFp32(x[b].dmin);
    sum += dall * isum - dmin * min_sum;
  }
  return sum;
}

float DotQ3_KQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int8_t scales[16];
    for (int s = 0; s < 16; ++s) scales[s] = quant_internal::GetScaleQ3K(s, x[b].scales);
    int isum = 0;
    for (int e = 0; e < kQK_K; ++e) {
      // Low 2 bits as in Q2_K; the high bit (bit e/32 of hmask[e%32]) set means no -4 offset.
      const int half = e / 128, group = (e % 128) / 32, l = e % 32;
      const int low = (x[b].qs[32 * half + l] >> (2 * group)) & 3;
      const int high_set = (x[b].hmask[l] >> (e / 32)) & 1;
      const int q = low - (high_set ? 0 : 4);
      isum += scales[e / 16] * q * y[b].qs[e];
    }
    sum += Fp16ToFp32(x[b].d) * y[b].d * isum;
  }
  return sum;
}

namespace {

// Shared by Q4_K and Q5_K: value(e) gives the unsigned 4/5-bit quant of element e.
template <typename Block, typename ValueFn>
float DotQ45KBlock(const Block& x, const BlockQ8_K& y, ValueFn value) {
  uint8_t scales[8], mins[8];
  for (int j = 0; j < 8; ++j) quant_internal::GetScaleMinK4(j, x.scales, &scales[j], &mins[j]);
  int min_sum = 0;
  for (int s = 0; s < 16; ++s) min_sum += y.bsums[s] * mins[s / 2];
  int isum = 0;
  for (int e = 0; e < kQK_K; ++e) isum += scales[e / 32] * value(e) * y.qs[e];
  const float d = Fp16ToFp32(x.d) * y.d;
  const float dmin = Fp16ToFp32(x.dmin) * y.d;
  return d * isum - dmin * min_sum;
}

}  // namespace

float DotQ4_KQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = x[b].qs;
    // Each 64 elements use 32 bytes: low nibbles first, then high nibbles.
    sum += DotQ45KBlock(x[b], y[b], [qs](int e) {
      const uint8_t byte = qs[32 * (e / 64) + e % 32];
      return (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
    });
  }
  return sum;
}

float DotQ5_KQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const uint8_t* qs = x[b].qs;
    const uint8_t* qh = x[b].qh;
    // As Q4_K, plus the fifth bit: bit e/32 of qh[e%32].
    sum += DotQ45KBlock(x[b], y[b], [qs, qh](int e) {
      const uint8_t byte = qs[32 * (e / 64) + e % 32];
      const int low = (e % 64) < 32 ? (byte & 0xF) : (byte >> 4);
      return low | (((qh[e % 32] >> (e / 32)) & 1) << 4);
    });
  }
  return sum;
}

float DotQ6_KQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int isum = 0;
    for (int e = 0; e < kQK_K; ++e) {
      // Per 128 elements: 64 ql bytes and 32 qh bytes. Quarter g (32 elements) takes the low (g=0,1) or
      // high (g=2,3) nibble of ql[l + 32*(g%2)] and bits 2g..2g+1 of qh[l].
      const int half = e / 128, g = (e % 128) / 32, l = e % 32;
      const uint8_t* ql = x[b].ql + 64 * half;
      const uint8_t* qh = x[b].qh + 32 * half;
      const int low = g < 2 ? (ql[l + 32 * g] & 0xF) : (ql[l + 32 * (g - 2)] >> 4);
      const int high = (qh[l] >> (2 * g)) & 3;
      const int q = (low | (high << 4)) - 32;
      isum += x[b].scales[e / 16] * q * y[b].qs[e];
    }
    sum += Fp16ToFp32(x[b].d) * y[b].d * isum;
  }
  return sum;
}

float DotF16F16Scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const fp16_t*>(w);
  const auto* y = static_cast<const fp16_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Fp16ToFp32(x[i]) * Fp16ToFp32(y[i]));
  return static_cast<float>(sum);
}

float DotBF16BF16Scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const bf16_t*>(w);
  const auto* y = static_cast<const bf16_t*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(Bf16ToFp32(x[i]) * Bf16ToFp32(y[i]));
  return static_cast<float>(sum);
}

float DotF32F32Scalar(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(a);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * y[i]);
  return static_cast<float>(sum);
}

}  // namespace quantlab::kernels_internal
