// Batched (prompt-processing) kernels for the K-quants, AVX2. A weight row is unpacked once per block
// of tokens into one common layout for Q2_K..Q6_K (bytes + broadcast int16 scales + bsums multipliers),
// so the inner tile is the same for every K-quant: per 32 elements, one maddubs and one madd per (row,
// token) pair, with the weight and scale loads shared by all tokens of the tile and the activation loads
// by all its rows. The result equals the vec_dot's: the integer sums are exact, float rounding differs
// only in order.
//
// Included by gemm_kquants_avx2.cc and gemm_kquants_avx512.cc, each compiled with its own ISA flags;
// all in an unnamed namespace, so each includer gets its own copy.
#pragma once

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

// One 256-element super-block, unpacked. For every format:
//   dot = yd * (d * (sum_e scale(e) * q[e] * y[e] + sum_s bsum_d[s] * bsums[s])
//               - dmin * sum_s bsum_min[s] * bsums[s])
// with q unsigned (offsets of signed formats moved into bsum_d).
struct UnpackedSuperBlock {
  uint8_t q[kQK_K];
  // Chunk c (elements 32c..32c+31): int16 lanes 0..7 multiply elements 32c..32c+15 in maddubs' output
  // order, lanes 8..15 elements 32c+16..32c+31.
  int16_t scales[8][16];
  int16_t bsum_d[16];
  int16_t bsum_min[16];
  float d;
  float dmin;
  float pad[6];
};
static_assert(sizeof(UnpackedSuperBlock) == 608);

size_t UnpackedRowBytes(int64_t n) {
  return (static_cast<size_t>(n / kQK_K) * sizeof(UnpackedSuperBlock) + 63) / 64 * 64;
}

inline void Store32(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

// Scale vectors from 16 int16 scales, one per 16 elements (8 in each 128-bit half of `scales16`).
inline void SetScalePairs(UnpackedSuperBlock& u, __m256i scales16) {
  const __m256i halves[2] = {_mm256_permute2x128_si256(scales16, scales16, 0x00),
                             _mm256_permute2x128_si256(scales16, scales16, 0x11)};
  for (int c = 0; c < 8; ++c) Store32(u.scales[c], ScalePair(halves[c / 4], c % 4));
}

// Scale vectors from 8 int16 scales, one per 32 elements (Q4_K/Q5_K), in the low 128 bits.
inline void SetScaleSingles(UnpackedSuperBlock& u, __m128i scales8) {
  const __m256i both = _mm256_broadcastsi128_si256(scales8);
  for (int c = 0; c < 8; ++c) Store32(u.scales[c], ScaleSingle(both, c));
}

void UnpackQ2_K(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ2_K*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i mask2 = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        Store32(u.q + 32 * (4 * half + group), _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2));
      }
    }
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales));
    SetScalePairs(u, _mm256_cvtepu8_epi16(_mm_and_si128(sc, _mm_set1_epi8(0x0F))));
    Store32(u.bsum_d, _mm256_setzero_si256());
    Store32(u.bsum_min, _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sc, 4), _mm_set1_epi8(0x0F))));
    u.d = HalfToFloat(x[b].d);
    u.dmin = HalfToFloat(x[b].dmin);
  }
}

void UnpackQ3_K(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ3_K*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i mask2 = _mm256_set1_epi8(3);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    // Stored as low + 4 * high bit (0..7); the value is that minus 4, moved into bsum_d.
    __m256i hmask = LoadBytes32(x[b].hmask);
    for (int half = 0; half < 2; ++half) {
      const __m256i bits = LoadBytes32(x[b].qs + 32 * half);
      for (int group = 0; group < 4; ++group) {
        const __m256i low = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * group), mask2);
        const __m256i high = _mm256_slli_epi16(_mm256_and_si256(hmask, _mm256_set1_epi8(1)), 2);
        hmask = _mm256_srli_epi16(hmask, 1);
        Store32(u.q + 32 * (4 * half + group), _mm256_or_si256(low, high));
      }
    }
    const __m256i scales16 = _mm256_cvtepi8_epi16(UnpackQ3KScalesVector(x[b].scales));
    SetScalePairs(u, scales16);
    Store32(u.bsum_d, _mm256_mullo_epi16(scales16, _mm256_set1_epi16(-4)));
    Store32(u.bsum_min, _mm256_setzero_si256());
    u.d = HalfToFloat(x[b].d);
    u.dmin = 0;
  }
}

template <bool kFifthBit, typename Block>
void UnpackQ45K(const Block* x, int64_t n, UnpackedSuperBlock* out) {
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    __m256i high_bits = _mm256_setzero_si256();
    if constexpr (kFifthBit) high_bits = LoadBytes32(x[b].qh);
    for (int j = 0; j < 4; ++j) {
      const __m256i bytes = LoadBytes32(x[b].qs + 32 * j);
      __m256i lo = _mm256_and_si256(bytes, mask4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask4);
      if constexpr (kFifthBit) {
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(high_bits, _mm256_set1_epi8(1)), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(high_bits, _mm256_set1_epi8(2)), 3));
        high_bits = _mm256_srli_epi16(high_bits, 2);
      }
      Store32(u.q + 64 * j, lo);
      Store32(u.q + 64 * j + 32, hi);
    }
    const __m128i scales_mins = UnpackK4ScalesMins(x[b].scales);
    SetScaleSingles(u, _mm_cvtepu8_epi16(scales_mins));
    // One min per 32 elements covers two bsums.
    const __m128i mins8 = _mm_srli_si128(scales_mins, 8);
    Store32(u.bsum_min, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mins8, mins8)));
    Store32(u.bsum_d, _mm256_setzero_si256());
    u.d = HalfToFloat(x[b].d);
    u.dmin = HalfToFloat(x[b].dmin);
  }
}

void UnpackQ4_K(const void* row, int64_t n, void* dst) {
  UnpackQ45K<false>(static_cast<const BlockQ4_K*>(row), n, static_cast<UnpackedSuperBlock*>(dst));
}

void UnpackQ5_K(const void* row, int64_t n, void* dst) {
  UnpackQ45K<true>(static_cast<const BlockQ5_K*>(row), n, static_cast<UnpackedSuperBlock*>(dst));
}

void UnpackQ6_K(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ6_K*>(row);
  auto* out = static_cast<UnpackedSuperBlock*>(dst);
  const __m256i mask4 = _mm256_set1_epi8(0x0F);
  const __m256i mask2 = _mm256_set1_epi8(0x03);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    UnpackedSuperBlock& u = out[b];
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = x[b].ql + 64 * half;
      const __m256i qh = LoadBytes32(x[b].qh + 32 * half);
      const __m256i ql0 = LoadBytes32(ql), ql1 = LoadBytes32(ql + 32);
      uint8_t* q = u.q + 128 * half;
      Store32(q, _mm256_or_si256(_mm256_and_si256(ql0, mask4),
                                 _mm256_slli_epi16(_mm256_and_si256(qh, mask2), 4)));
      Store32(q + 32,
              _mm256_or_si256(_mm256_and_si256(ql1, mask4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), mask2), 4)));
      Store32(q + 64,
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), mask4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), mask2), 4)));
      Store32(q + 96,
              _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), mask4),
                              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), mask2), 4)));
    }
    const __m256i scales16 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x[b].scales)));
    SetScalePairs(u, scales16);
    Store32(u.bsum_d, _mm256_slli_epi16(_mm256_sub_epi16(_mm256_setzero_si256(), scales16), 5));
    Store32(u.bsum_min, _mm256_setzero_si256());
    u.d = HalfToFloat(x[b].d);
    u.dmin = 0;
  }
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

std::span<const TypeKernelEntry> GemmKQuantsHere() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ2_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ2_K)},
      {.type = GgmlType::kQ3_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ3_K)},
      {.type = GgmlType::kQ4_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ4_K)},
      {.type = GgmlType::kQ5_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ5_K)},
      {.type = GgmlType::kQ6_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ6_K)},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
