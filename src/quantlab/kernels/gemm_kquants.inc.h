// Batched (prompt-processing) kernels for the K-quants, AVX2. A weight row is unpacked once per block
// of tokens into one common layout for Q2_K..Q6_K (bytes + broadcast int16 scales + bsums multipliers),
// so the inner tile is the same for every K-quant: per 32 elements, one maddubs and one madd per (row,
// token) pair, with the weight and scale loads shared by all tokens of the tile and the activation loads
// by all its rows. The result equals the vec_dot's: the integer sums are exact, float rounding differs
// only in order.
//
// Included by gemm_kquants_avx2.cc and gemm_iquants_avx2.cc (the i-quants whose unpacked bytes fit
// maddubs, iquants_unpack.inc.h); AVX-512 VNNI uses the int8 panels (gemm_int8_*_avx512.cc) instead. All
// in an unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/kquants_unpack.inc.h"
#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

size_t UnpackedRowBytes(int64_t n) {
  return (static_cast<size_t>(n / kQK_K) * sizeof(UnpackedSuperBlock) + 63) / 64 * 64;
}

inline __m256i Load16(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

template <int R, int T>
void KQuantTile(int64_t n, const void* const* rows, const void* act, size_t act_stride, float* out,
                size_t out_stride) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const UnpackedSuperBlock* w[R];
    const BlockQ8_K* y[T];
    for (int r = 0; r < R; ++r) w[r] = static_cast<const UnpackedSuperBlock*>(rows[r]) + b;
    for (int t = 0; t < T; ++t) {
      y[t] = reinterpret_cast<const BlockQ8_K*>(static_cast<const char*>(act) + t * act_stride) + b;
    }
    __m256i isum[R][T];
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < T; ++t) isum[r][t] = _mm256_setzero_si256();
    }
    for (int c = 0; c < 8; ++c) {
      __m256i yv[T];
      for (int t = 0; t < T; ++t) yv[t] = LoadBytes32(y[t]->qs + 32 * c);
      for (int r = 0; r < R; ++r) {
        const __m256i q = LoadBytes32(w[r]->q + 32 * c);
        const __m256i s = Load16(w[r]->scales[c]);
        for (int t = 0; t < T; ++t) {
          isum[r][t] = AddScaled(isum[r][t], _mm256_maddubs_epi16(q, yv[t]), s);
        }
      }
    }
    for (int t = 0; t < T; ++t) {
      const __m256i bsums = Load16(y[t]->bsums);
      for (int r = 0; r < R; ++r) {
        const __m256i corr = _mm256_madd_epi16(Load16(w[r]->bsum_d), bsums);
        const __m256i mins = _mm256_madd_epi16(Load16(w[r]->bsum_min), bsums);
        const float yd = y[t]->d;
        acc[r][t] = _mm256_fmadd_ps(_mm256_set1_ps(w[r]->d * yd),
                                    _mm256_cvtepi32_ps(_mm256_add_epi32(isum[r][t], corr)), acc[r][t]);
        acc[r][t] = _mm256_fnmadd_ps(_mm256_set1_ps(w[r]->dmin * yd), _mm256_cvtepi32_ps(mins), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = HsumFloat8(acc[r][t]);
  }
}

constexpr int kMaxRows = 2;
constexpr int kMaxTokens = 4;

using TileFn = void (*)(int64_t, const void* const*, const void*, size_t, float*, size_t);

template <int R>
constexpr TileFn TileFor(int t) {
  switch (t) {
    case 1:
      return KQuantTile<R, 1>;
    case 2:
      return KQuantTile<R, 2>;
    case 3:
      return KQuantTile<R, 3>;
    default:
      return KQuantTile<R, 4>;
  }
}

void KQuantGemmTile(int64_t n, const void* const* rows, int n_rows, const void* act, size_t act_stride,
                    int n_tokens, float* out, size_t out_stride) {
  const TileFn fn = n_rows == 1 ? TileFor<1>(n_tokens) : TileFor<2>(n_tokens);
  fn(n, rows, act, act_stride, out, out_stride);
}

GemmKernel KQuantGemm(void (*unpack)(const void*, int64_t, void*)) {
  return {.unpacked_row_bytes = UnpackedRowBytes,
          .unpack = unpack,
          .tile = KQuantGemmTile,
          .max_rows = kMaxRows,
          .max_tokens = kMaxTokens};
}

}  // namespace
}  // namespace quantlab::kernels_internal
