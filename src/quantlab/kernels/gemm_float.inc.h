// Batched (prompt-processing) kernel for F16 weights, AVX2 + F16C + FMA. Weight rows are unpacked to
// F32 once per token block; a tile of R rows x T tokens keeps R * T accumulators in registers, so each
// weight load feeds T FMAs and each (converted) activation load feeds R: 4 x 3 with AVX2's 16
// registers, 4 x 6 with AVX-512 VL's 32.
//
// Included by gemm_float_avx2.cc and gemm_float_avx512.cc, each compiled with its own ISA flags; all in
// an unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"

namespace quantlab::kernels_internal {
namespace {

size_t F32RowBytes(int64_t n) { return (static_cast<size_t>(n) * sizeof(float) + 63) / 64 * 64; }

void UnpackF16(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const uint16_t*>(row);
  auto* out = static_cast<float*>(dst);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  }
  for (; i < n; ++i) out[i] = HalfToFloat(x[i]);
}

template <int R, int T>
void F16Tile(int64_t n, const void* const* rows, const void* act, size_t act_stride, float* out,
             size_t out_stride) {
  const float* w[R];
  const uint16_t* y[T];
  for (int r = 0; r < R; ++r) w[r] = static_cast<const float*>(rows[r]);
  for (int t = 0; t < T; ++t) {
    y[t] = reinterpret_cast<const uint16_t*>(static_cast<const char*>(act) + t * act_stride);
  }
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 yv[T];
    for (int t = 0; t < T; ++t) {
      yv[t] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(y[t] + i)));
    }
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_loadu_ps(w[r] + i);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, yv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      double sum = HsumFloat8(acc[r][t]);
      for (int64_t k = i; k < n; ++k) sum += static_cast<double>(w[r][k] * HalfToFloat(y[t][k]));
      out[t * out_stride + r] = static_cast<float>(sum);
    }
  }
}

constexpr int kMaxRows = 4;
#if defined(__AVX512VL__)
constexpr int kMaxTokens = 6;
#else
constexpr int kMaxTokens = 3;
#endif

using TileFn = void (*)(int64_t, const void* const*, const void*, size_t, float*, size_t);

template <int R, int T = kMaxTokens>
TileFn TileForTokens(int t) {
  if constexpr (T == 1) {
    return F16Tile<R, 1>;
  } else {
    return t >= T ? F16Tile<R, T> : TileForTokens<R, T - 1>(t);
  }
}

void F16GemmTile(int64_t n, const void* const* rows, int n_rows, const void* act, size_t act_stride,
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

std::span<const TypeKernelEntry> GemmFloatHere() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kF16,
       .vec_dot_type = GgmlType::kF16,
       .gemm = {.unpacked_row_bytes = F32RowBytes,
                .unpack = UnpackF16,
                .tile = F16GemmTile,
                .max_rows = kMaxRows,
                .max_tokens = kMaxTokens}},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
