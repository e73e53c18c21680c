// Batched (prompt-processing) kernels for the 32-element formats that take Q8_0 activations (Q8_0, Q4_0,
// Q5_0). A weight row is unpacked once per token block to bytes plus one float scale per 32.
//
// With AVX-512 VL + VNNI (32 registers, vpdpbusd): bytes are stored as u = q + 128, since vpdpbusd
// multiplies unsigned by signed bytes, and per block sum q*y = sum u*y - 128 * sum y with the
// accumulator starting at -128 * (sum of y over each lane's 4 bytes), computed once per token and block
// and shared by all rows: the integer part is one vpdpbusd per (row, token, block).
// With AVX2: signed bytes and the |q| x sign-adjusted-y maddubs trick.
//
// Included by gemm_q8_avx2.cc and gemm_q8_avx512.cc, each compiled with its own ISA flags; all in an
// unnamed namespace, so each includer gets its own copy.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "quantlab/kernels/kernel_impl.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

#if defined(QUANTLAB_KERNELS_VNNI)
// vpdpbusd takes unsigned weights: store q + 128 and start each block's sum at -128 * sum(y).
constexpr int kWeightBias = 128;
constexpr int kMaxRows = 4;
constexpr int kMaxTokens = 3;
#else
// maddubs with the sign trick (|q| x sign-adjusted y) takes signed weights as they are; 16 registers
// allow a smaller tile.
constexpr int kWeightBias = 0;
constexpr int kMaxRows = 2;
constexpr int kMaxTokens = 3;
#endif

// Row layout: n bytes (q + kWeightBias), then n / 32 floats d.
size_t UnpackedRowBytes(int64_t n) {
  return (static_cast<size_t>(n) + static_cast<size_t>(n / 32) * 4 + 63) / 64 * 64;
}

inline float* Scales(void* row, int64_t n) {
  return reinterpret_cast<float*>(static_cast<uint8_t*>(row) + n);
}

void UnpackQ8_0(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ8_0*>(row);
  auto* u = static_cast<uint8_t*>(dst);
  float* d = Scales(dst, n);
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(kWeightBias));
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), _mm256_add_epi8(q, bias));
    d[b] = HalfToFloat(x[b].d);
  }
}

// Q4_0 / Q5_0 nibbles: low nibbles are elements 0..15, high nibbles 16..31.
inline __m256i Nibbles(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

void UnpackQ4_0(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ4_0*>(row);
  auto* u = static_cast<uint8_t*>(dst);
  float* d = Scales(dst, n);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const __m256i v = _mm256_add_epi8(Nibbles(x[b].qs), _mm256_set1_epi8(static_cast<char>(kWeightBias - 8)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), v);
    d[b] = HalfToFloat(x[b].d);
  }
}

void UnpackQ5_0(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ5_0*>(row);
  auto* u = static_cast<uint8_t*>(dst);
  float* d = Scales(dst, n);
  for (int64_t b = 0; b < n / kQK5_0; ++b) {
    uint32_t qh;
    std::memcpy(&qh, x[b].qh, 4);
    const __m256i high = _mm256_and_si256(BitsToByteMask(qh), _mm256_set1_epi8(16));
    const __m256i v = _mm256_add_epi8(_mm256_or_si256(Nibbles(x[b].qs), high),
                                      _mm256_set1_epi8(static_cast<char>(kWeightBias - 16)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), v);
    d[b] = HalfToFloat(x[b].d);
  }
}

template <int R, int T>
void Q8Tile(int64_t n, const void* const* rows, const void* act, size_t act_stride, float* out,
            size_t out_stride) {
  const uint8_t* u[R];
  const float* dw[R];
  const BlockQ8_0* y[T];
  for (int r = 0; r < R; ++r) {
    u[r] = static_cast<const uint8_t*>(rows[r]);
    dw[r] = reinterpret_cast<const float*>(u[r] + n);
  }
  for (int t = 0; t < T; ++t) {
    y[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(act) + t * act_stride);
  }
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    __m256i yv[T];
    __m256 dy[T];
#if defined(QUANTLAB_KERNELS_VNNI)
    __m256i start[T];
#endif
    for (int t = 0; t < T; ++t) {
      yv[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[t][b].qs));
      dy[t] = _mm256_set1_ps(HalfToFloat(y[t][b].d));
#if defined(QUANTLAB_KERNELS_VNNI)
      start[t] = _mm256_sub_epi32(_mm256_setzero_si256(),
                                  _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(-128), yv[t]));
#endif
    }
    for (int r = 0; r < R; ++r) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u[r] + 32 * b));
      const __m256 d = _mm256_broadcast_ss(dw[r] + b);
#if !defined(QUANTLAB_KERNELS_VNNI)
      const __m256i w_abs = _mm256_sign_epi8(w, w);
#endif
      for (int t = 0; t < T; ++t) {
#if defined(QUANTLAB_KERNELS_VNNI)
        const __m256i isum = _mm256_dpbusd_epi32(start[t], w, yv[t]);
#else
        const __m256i isum =
            _mm256_madd_epi16(_mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(yv[t], w)), _mm256_set1_epi16(1));
#endif
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, dy[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = HsumFloat8(acc[r][t]);
  }
}

using TileFn = void (*)(int64_t, const void* const*, const void*, size_t, float*, size_t);

template <int R>
TileFn TileForTokens(int t) {
  static_assert(kMaxTokens == 3);
  return t == 1 ? Q8Tile<R, 1> : t == 2 ? Q8Tile<R, 2> : Q8Tile<R, 3>;
}

void Q8GemmTile(int64_t n, const void* const* rows, int n_rows, const void* act, size_t act_stride,
                int n_tokens, float* out, size_t out_stride) {
  TileFn fn;
  switch (n_rows) {
    case 1:
      fn = TileForTokens<1>(n_tokens);
      break;
    case 2:
      fn = TileForTokens<2>(n_tokens);
      break;
    case 3:
      fn = TileForTokens<3>(n_tokens);
      break;
    default:
      fn = TileForTokens<4>(n_tokens);
      break;
  }
  fn(n, rows, act, act_stride, out, out_stride);
}

GemmKernel Q8Gemm(void (*unpack)(const void*, int64_t, void*)) {
  return GemmKernel{UnpackedRowBytes, unpack, Q8GemmTile, kMaxRows, kMaxTokens};
}

std::span<const KernelOverride> Q8GemmKernelsHere() {
  static const KernelOverride kernels[] = {
      {GgmlType::kQ8_0, nullptr, nullptr, nullptr, Q8Gemm(UnpackQ8_0)},
      {GgmlType::kQ4_0, nullptr, nullptr, nullptr, Q8Gemm(UnpackQ4_0)},
      {GgmlType::kQ5_0, nullptr, nullptr, nullptr, Q8Gemm(UnpackQ5_0)},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
