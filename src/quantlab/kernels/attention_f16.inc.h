// AVX2 bodies of the attention kernels (attention_kernels.h), compiled once per ISA by
// attention_f16_avx2.cc and attention_f16_avx512.cc. Each dot follows DotFloatLike in dot_float_avx2.cc
// step for step: four 8-lane accumulators over 32-element steps, then 8-element steps into the first,
// ((a0 + a1) + (a2 + a3)) summed across lanes, and the last n % 8 products added in double. Only the
// loop nesting changes: one load and conversion of each cache element serves up to kMaxVecs vectors.
#pragma once

#include <immintrin.h>

#include <algorithm>

#include "quantlab/kernels/attention_kernels.h"
#include "quantlab/kernels/simd_avx2.h"

namespace quantlab::kernels_internal {
namespace {

// Four vectors need 16 accumulators: with AVX-512 VL's 32 registers they all stay in registers; AVX2's
// 16 would spill, so it takes two at a time.
#if defined(__AVX512VL__)
constexpr int kMaxVecs = 4;
#else
constexpr int kMaxVecs = 2;
#endif

inline __m256 LoadHalf8(const fp16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

struct DotState {
  __m256 acc[4];
};

// Continues a dot from element `begin` (a multiple of 32 reached by 32-element steps) to n.
inline float FinishDot(DotState& s, const fp16_t* x, const float* y, int64_t begin, int64_t n) {
  int64_t i = begin;
  for (; i + 32 <= n; i += 32) {
    for (int k = 0; k < 4; ++k)
      s.acc[k] = _mm256_fmadd_ps(LoadHalf8(x + i + 8 * k), _mm256_loadu_ps(y + i + 8 * k), s.acc[k]);
  }
  for (; i + 8 <= n; i += 8) s.acc[0] = _mm256_fmadd_ps(LoadHalf8(x + i), _mm256_loadu_ps(y + i), s.acc[0]);
  double sum =
      HsumFloat8(_mm256_add_ps(_mm256_add_ps(s.acc[0], s.acc[1]), _mm256_add_ps(s.acc[2], s.acc[3])));
  for (; i < n; ++i) sum += static_cast<double>(HalfToFloat(x[i]) * y[i]);
  return static_cast<float>(sum);
}

// M dots of the same x against y[0..M), the 32-element steps below `common` done together.
template <int M>
inline void SharedSteps(DotState (&s)[M], const fp16_t* x, const float* const* y, int64_t common) {
  for (int v = 0; v < M; ++v) {
    for (int k = 0; k < 4; ++k) s[v].acc[k] = _mm256_setzero_ps();
  }
  for (int64_t i = 0; i < common; i += 32) {
    for (int k = 0; k < 4; ++k) {
      const __m256 xv = LoadHalf8(x + i + 8 * k);
      for (int v = 0; v < M; ++v)
        s[v].acc[k] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(y[v] + i + 8 * k), s[v].acc[k]);
    }
  }
}

template <int M>
void DotRowsM(int64_t n, const fp16_t* rows, size_t row_stride, int64_t n_rows, const float* const* vecs,
              float* out, size_t out_stride) {
  const int64_t common = n / 32 * 32;
  for (int64_t j = 0; j < n_rows; ++j) {
    const fp16_t* x = rows + j * row_stride;
    DotState s[M];
    SharedSteps<M>(s, x, vecs, common);
    for (int v = 0; v < M; ++v) out[v * out_stride + j] = FinishDot(s[v], x, vecs[v], common, n);
  }
}

template <int M>
void DotRowMultiM(const fp16_t* x, const float* const* vecs, const int64_t* lengths, float* out) {
  int64_t common = lengths[0];
  for (int v = 1; v < M; ++v) common = std::min(common, lengths[v]);
  common = common / 32 * 32;
  DotState s[M];
  SharedSteps<M>(s, x, vecs, common);
  for (int v = 0; v < M; ++v) out[v] = FinishDot(s[v], x, vecs[v], common, lengths[v]);
}

// Splits m vectors into groups of at most kMaxVecs.
void DotRowsHere(int64_t n, const fp16_t* rows, size_t row_stride, int64_t n_rows, const float* const* vecs,
                 int m, float* out, size_t out_stride) {
  for (int v0 = 0; v0 < m; v0 += kMaxVecs) {
    const int count = std::min(kMaxVecs, m - v0);
    float* o = out + v0 * out_stride;
    switch (count) {
      case 1:
        DotRowsM<1>(n, rows, row_stride, n_rows, vecs + v0, o, out_stride);
        break;
      case 2:
        DotRowsM<2>(n, rows, row_stride, n_rows, vecs + v0, o, out_stride);
        break;
#if defined(__AVX512VL__)
      case 3:
        DotRowsM<3>(n, rows, row_stride, n_rows, vecs + v0, o, out_stride);
        break;
      default:
        DotRowsM<4>(n, rows, row_stride, n_rows, vecs + v0, o, out_stride);
        break;
#endif
    }
  }
}

void DotRowMultiHere(const fp16_t* row, const float* const* vecs, const int64_t* lengths, int m, float* out) {
  for (int v0 = 0; v0 < m; v0 += kMaxVecs) {
    const int count = std::min(kMaxVecs, m - v0);
    switch (count) {
      case 1:
        DotRowMultiM<1>(row, vecs + v0, lengths + v0, out + v0);
        break;
      case 2:
        DotRowMultiM<2>(row, vecs + v0, lengths + v0, out + v0);
        break;
#if defined(__AVX512VL__)
      case 3:
        DotRowMultiM<3>(row, vecs + v0, lengths + v0, out + v0);
        break;
      default:
        DotRowMultiM<4>(row, vecs + v0, lengths + v0, out + v0);
        break;
#endif
    }
  }
}

AttentionKernels AttentionF16Here() { return {.dot_rows = DotRowsHere, .dot_row_multi = DotRowMultiHere}; }

}  // namespace
}  // namespace quantlab::kernels_internal
