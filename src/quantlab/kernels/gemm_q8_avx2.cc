// Batched (prompt-processing) kernels for the 32-element formats that take Q8_0 activations (Q8_0, Q4_0,
// Q5_0, IQ4_NL), for AVX2. A weight row is unpacked once per token block to signed bytes plus one float scale
// per 32; a tile multiplies up to 2 rows with up to 3 tokens using the |q| x sign-adjusted-y maddubs trick.
// (With AVX-512 VNNI, gemm_int8_q8_0_avx512.cc's int8 panel kernel replaces these.)

#include <immintrin.h>

#include <cstring>

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

// 16 registers: 2 x 3 accumulators.
constexpr int kMaxRows = 2;
constexpr int kMaxTokens = 3;

// Row layout: n signed bytes q, then n / 32 floats d.
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
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), LoadBytes32(x[b].qs));
    d[b] = HalfToFloat(x[b].d);
  }
}

void UnpackQ4_0(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ4_0*>(row);
  auto* u = static_cast<uint8_t*>(dst);
  float* d = Scales(dst, n);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    const __m256i v = _mm256_sub_epi8(NibblesLowThenHigh(x[b].qs), _mm256_set1_epi8(8));
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
    const __m256i v =
        _mm256_sub_epi8(_mm256_or_si256(NibblesLowThenHigh(x[b].qs), high), _mm256_set1_epi8(16));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), v);
    d[b] = HalfToFloat(x[b].d);
  }
}

// IQ4_NL: the table values (-127..113, never -128 as the sign trick needs).
void UnpackIQ4_NL(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockIQ4_NL*>(row);
  auto* u = static_cast<uint8_t*>(dst);
  float* d = Scales(dst, n);
  const __m256i table =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues)));
  for (int64_t b = 0; b < n / kQK4_NL; ++b) {
    const __m256i v = _mm256_shuffle_epi8(table, NibblesLowThenHigh(x[b].qs));
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
    for (int t = 0; t < T; ++t) {
      yv[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[t][b].qs));
      dy[t] = _mm256_set1_ps(HalfToFloat(y[t][b].d));
    }
    for (int r = 0; r < R; ++r) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u[r] + 32 * b));
      const __m256 d = _mm256_broadcast_ss(dw[r] + b);
      const __m256i w_abs = _mm256_sign_epi8(w, w);
      for (int t = 0; t < T; ++t) {
        const __m256i isum =
            _mm256_madd_epi16(_mm256_maddubs_epi16(w_abs, _mm256_sign_epi8(yv[t], w)), _mm256_set1_epi16(1));
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
  static_assert(kMaxRows == 2);
  const TileFn fn = n_rows == 1 ? TileForTokens<1>(n_tokens) : TileForTokens<2>(n_tokens);
  fn(n, rows, act, act_stride, out, out_stride);
}

GemmKernel Q8Gemm(void (*unpack)(const void*, int64_t, void*)) {
  return {.unpacked_row_bytes = UnpackedRowBytes,
          .unpack = unpack,
          .tile = Q8GemmTile,
          .max_rows = kMaxRows,
          .max_tokens = kMaxTokens};
}

}  // namespace

std::span<const TypeKernelEntry> GemmQ8Avx2() {
  constexpr GgmlType kQ8_0 = GgmlType::kQ8_0;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ8_0, .vec_dot_type = kQ8_0, .gemm = Q8Gemm(UnpackQ8_0)},
      {.type = GgmlType::kQ4_0, .vec_dot_type = kQ8_0, .gemm = Q8Gemm(UnpackQ4_0)},
      {.type = GgmlType::kQ5_0, .vec_dot_type = kQ8_0, .gemm = Q8Gemm(UnpackQ5_0)},
      {.type = GgmlType::kIQ4_NL, .vec_dot_type = kQ8_0, .gemm = Q8Gemm(UnpackIQ4_NL)},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
