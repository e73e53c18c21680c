// Batched (prompt-processing) kernels for the 16-bit float formats, F16 and BF16, as a cache-blocked
// matrix product (the shape of a BLIS/GotoBLAS gemm):
//
//   for each panel of kPanelRows weight rows:
//     for each block of kBlockUnits columns (k):
//       pack the panel's block once: converted to 32-bit units, transposed into micro-panels of kMr rows
//       in which one vector holds one k of kLanes consecutive rows (an L2-resident buffer);
//       for each tile of kNr tokens:
//         pack the tile's block (same conversion, transposed so one k of kNr tokens is contiguous: L1);
//         for each micro-panel: (kMr / kLanes) x kNr vector accumulators in registers, each vector load
//         of weights feeds kNr FMAs with a broadcast activation; the block's sums go into the output.
//
// Output rows sit in the vector lanes, so a tile of results is stored straight into out (token-major,
// rows contiguous) without horizontal sums. Every weight element is converted once per call and every
// activation once per panel, instead of once per tile as a dot-product formulation would.
//
// A "unit" is what one 32-bit lane holds: one converted float (F16 and BF16 via F32 FMAs: the products
// are exactly those of the scalar reference, only the order of the float additions differs) or, for the
// AVX512-BF16 kernel (gemm_float_avx512bf16.cc), a raw pair of bf16 values that vdpbf16ps multiplies
// (products exact as well; vdpbf16ps treats denormals as zero).
//
// Included by gemm_float_avx2.cc, gemm_float_avx512.cc and gemm_float_avx512bf16.cc, each compiled with
// its own ISA flags; all in an unnamed namespace, so each includer gets its own copy.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
constexpr int kNr = 12;  // 2 x 12 accumulators + 2 weight vectors of 32 registers
inline Vec Zero() { return _mm512_setzero_ps(); }
inline Vec Load(const float* p) { return _mm512_load_ps(p); }
inline Vec LoadU(const float* p) { return _mm512_loadu_ps(p); }
inline void Store(float* p, Vec v) { _mm512_store_ps(p, v); }
inline void StoreU(float* p, Vec v) { _mm512_storeu_ps(p, v); }
inline Vec Broadcast(const float* p) { return _mm512_set1_ps(*p); }
inline Vec Add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
inline Vec Fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
// The first `n` lanes of v to p (n <= kLanes).
inline void StoreFirst(float* p, Vec v, int n) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
}
inline Vec LoadFirst(const float* p, int n) {
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
}

// The all-lanes maskz forms: the unmasked intrinsics trip GCC 12's -Wmaybe-uninitialized in its header.
constexpr __mmask16 kAll16 = 0xFFFF;
constexpr __mmask8 kAll8 = 0xFF;
inline __m512 UnpackLo(__m512 a, __m512 b) { return _mm512_maskz_unpacklo_ps(kAll16, a, b); }
inline __m512 UnpackHi(__m512 a, __m512 b) { return _mm512_maskz_unpackhi_ps(kAll16, a, b); }
inline __m512d UnpackLo(__m512d a, __m512d b) { return _mm512_maskz_unpacklo_pd(kAll8, a, b); }
inline __m512d UnpackHi(__m512d a, __m512d b) { return _mm512_maskz_unpackhi_pd(kAll8, a, b); }
template <int kImm>
inline __m512 Shuffle128(__m512 a, __m512 b) {
  return _mm512_maskz_shuffle_f32x4(kAll16, a, b, kImm);
}

// v[i] holds 16 units of row i; afterwards v[k] holds unit k of rows 0..15.
inline void Transpose(Vec (&v)[kLanes]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = UnpackLo(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = UnpackHi(v[2 * i], v[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 2]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 1]), d = _mm512_castps_pd(t[4 * i + 3]);
    v[4 * i] = _mm512_castpd_ps(UnpackLo(a, b));
    v[4 * i + 1] = _mm512_castpd_ps(UnpackHi(a, b));
    v[4 * i + 2] = _mm512_castpd_ps(UnpackLo(c, d));
    v[4 * i + 3] = _mm512_castpd_ps(UnpackHi(c, d));
  }
  // Now v[4i + j] holds unit j (+4 per 128-bit lane) of rows 4i..4i+3 in each 128-bit lane.
  for (int j = 0; j < 4; ++j) {
    const __m512 a = Shuffle128<0x88>(v[j], v[4 + j]);       // lanes 0,2 of rows 0-3 / 4-7
    const __m512 b = Shuffle128<0xDD>(v[j], v[4 + j]);       // lanes 1,3
    const __m512 c = Shuffle128<0x88>(v[8 + j], v[12 + j]);  // rows 8-11 / 12-15
    const __m512 d = Shuffle128<0xDD>(v[8 + j], v[12 + j]);
    t[j] = Shuffle128<0x88>(a, c);       // lane 0: unit j
    t[8 + j] = Shuffle128<0xDD>(a, c);   // lane 2: unit 8 + j
    t[4 + j] = Shuffle128<0x88>(b, d);   // lane 1: unit 4 + j
    t[12 + j] = Shuffle128<0xDD>(b, d);  // lane 3: unit 12 + j
  }
  for (int i = 0; i < 16; ++i) v[i] = t[i];
}
#else
using Vec = __m256;
constexpr int kLanes = 8;
constexpr int kNr = 6;  // 2 x 6 accumulators + 2 weight vectors + a broadcast of AVX2's 16 registers
inline Vec Zero() { return _mm256_setzero_ps(); }
inline Vec Load(const float* p) { return _mm256_load_ps(p); }
inline Vec LoadU(const float* p) { return _mm256_loadu_ps(p); }
inline void Store(float* p, Vec v) { _mm256_store_ps(p, v); }
inline void StoreU(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec Broadcast(const float* p) { return _mm256_broadcast_ss(p); }
inline Vec Add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec Fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline __m256i FirstLanes(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline void StoreFirst(float* p, Vec v, int n) { _mm256_maskstore_ps(p, FirstLanes(n), v); }
inline Vec LoadFirst(const float* p, int n) { return _mm256_maskload_ps(p, FirstLanes(n)); }

// v[i] holds 8 units of row i; afterwards v[k] holds unit k of rows 0..7.
inline void Transpose(Vec (&v)[kLanes]) {
  __m256 t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    v[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    v[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}
#endif

constexpr int kMrVecs = 2;
constexpr int kMr = kMrVecs * kLanes;  // rows of a micro-panel
// A panel of weight rows and a block of columns, in units: 256 x 256 x 4 bytes = 256 KB packed (L2);
// an activation tile is kNr x 256 x 4 bytes (L1).
constexpr int64_t kPanelRows = 256;
constexpr int64_t kBlockUnits = 256;

int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Loads of kLanes units of a row as one vector, from element `i`; `avail` elements are valid there (the
// rest read as zero). Element = the stored 16-bit value; a unit is kPerUnit elements.
struct F16ToF32 {
  static constexpr int kPerUnit = 1;
  static Vec Full(const uint16_t* p) {
#if defined(__AVX512F__)
    return _mm512_maskz_cvtph_ps(kAll16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
#else
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#endif
  }
};

struct BF16ToF32 {
  static constexpr int kPerUnit = 1;
  static Vec Full(const uint16_t* p) {
#if defined(__AVX512F__)
    const __m512i wide =
        _mm512_maskz_cvtepu16_epi32(kAll16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(kAll16, wide, 16));
#else
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
#endif
  }
};

template <typename Conv>
Vec LoadUnits(const uint16_t* p, int64_t avail) {
  constexpr int kElems = kLanes * Conv::kPerUnit;
  if (avail >= kElems) return Conv::Full(p);
  alignas(64) uint16_t tmp[kElems] = {};
  if (avail > 0) std::memcpy(tmp, p, static_cast<size_t>(avail) * sizeof(uint16_t));
  return Conv::Full(tmp);
}

// Packs rows [0, n_rows) of a panel, units [u0, u0 + units) (units a multiple of kLanes), into
// micro-panels: dst[mp][u][kMr], zero past n_rows and past the row end (n elements).
template <typename Conv>
void PackWeights(const char* w, size_t stride, int n_rows, int64_t n, int64_t u0, int64_t units, float* dst) {
  constexpr int kPer = Conv::kPerUnit;
  for (int r0 = 0; r0 < n_rows; r0 += kLanes) {
    float* panel = dst + (r0 / kMr) * units * kMr + (r0 % kMr);
    for (int64_t u = 0; u < units; u += kLanes) {
      Vec v[kLanes];
      const int64_t e = (u0 + u) * kPer;
      for (int i = 0; i < kLanes; ++i) {
        v[i] = r0 + i < n_rows
                   ? LoadUnits<Conv>(reinterpret_cast<const uint16_t*>(w + (r0 + i) * stride) + e, n - e)
                   : Zero();
      }
      Transpose(v);
      for (int k = 0; k < kLanes; ++k) Store(panel + (u + k) * kMr, v[k]);
    }
  }
  // A micro-panel the rows end inside: its missing row groups are zero.
  const int padded = static_cast<int>(RoundUp(n_rows, kMr));
  for (int r0 = static_cast<int>(RoundUp(n_rows, kLanes)); r0 < padded; r0 += kLanes) {
    float* panel = dst + (r0 / kMr) * units * kMr + (r0 % kMr);
    for (int64_t u = 0; u < units; ++u) Store(panel + u * kMr, Zero());
  }
}

// Packs tokens [0, n_tok) (n_tok <= kNr), units [u0, u0 + units), as dst[u][kNr].
template <typename Conv>
void PackActivations(const char* a, size_t stride, int n_tok, int64_t n, int64_t u0, int64_t units,
                     float* dst) {
  constexpr int kPer = Conv::kPerUnit;
  for (int64_t u = 0; u < units; u += kLanes) {
    Vec v[kLanes];
    const int64_t e = (u0 + u) * kPer;
    for (int i = 0; i < kLanes; ++i) {
      v[i] =
          i < n_tok ? LoadUnits<Conv>(reinterpret_cast<const uint16_t*>(a + i * stride) + e, n - e) : Zero();
    }
    Transpose(v);
    for (int k = 0; k < kLanes; ++k) StoreFirst(dst + (u + k) * kNr, v[k], kNr);
  }
}

// out[t][r] (+)= sum over `units` of w[u][r] * a[u][t], r < n_rows (<= kMr), t < T. `Mac` is the
// multiply-accumulate of one weight vector with one broadcast activation unit.
template <typename Mac, int T>
void MicroKernel(int64_t units, const float* w, const float* a, float* out, size_t out_stride, int n_rows,
                 bool accumulate) {
  Vec acc[kMrVecs][T];
#pragma GCC unroll 8
  for (int v = 0; v < kMrVecs; ++v) {
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[v][t] = Zero();
  }
  for (int64_t u = 0; u < units; ++u) {
    Vec wv[kMrVecs];
#pragma GCC unroll 8
    for (int v = 0; v < kMrVecs; ++v) wv[v] = Load(w + u * kMr + v * kLanes);
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const Vec av = Broadcast(a + u * kNr + t);
#pragma GCC unroll 8
      for (int v = 0; v < kMrVecs; ++v) acc[v][t] = Mac::Apply(acc[v][t], wv[v], av);
    }
  }
  // Through memory once, with constant indices only: a runtime index into acc would make the compiler
  // keep the accumulators in memory inside the loop above.
  alignas(64) float result[T][kMr];
#pragma GCC unroll 16
  for (int t = 0; t < T; ++t) {
#pragma GCC unroll 8
    for (int v = 0; v < kMrVecs; ++v) Store(result[t] + v * kLanes, acc[v][t]);
  }
  for (int t = 0; t < T; ++t) {
    float* o = out + t * out_stride;
    for (int v = 0; v < kMrVecs; ++v) {
      const int rows = n_rows - v * kLanes;
      if (rows <= 0) break;
      const Vec sum = Load(result[t] + v * kLanes);
      if (rows >= kLanes) {
        StoreU(o + v * kLanes, accumulate ? Add(LoadU(o + v * kLanes), sum) : sum);
      } else {
        StoreFirst(o + v * kLanes, accumulate ? Add(LoadFirst(o + v * kLanes, rows), sum) : sum, rows);
      }
    }
  }
}

struct FmaMac {
  static Vec Apply(Vec acc, Vec w, Vec a) { return Fma(w, a, acc); }
};

using MicroFn = void (*)(int64_t, const float*, const float*, float*, size_t, int, bool);

template <typename Mac, int T = kNr>
MicroFn MicroForTokens(int t) {
  if constexpr (T == 1) {
    return MicroKernel<Mac, 1>;
  } else {
    return t >= T ? MicroKernel<Mac, T> : MicroForTokens<Mac, T - 1>(t);
  }
}

// Workspace: a packed panel and an activation tile, each 64-byte aligned.
size_t PanelFloats() { return static_cast<size_t>(kPanelRows) * kBlockUnits; }
size_t BlockedWorkspaceBytes(int64_t /*n*/) { return (PanelFloats() + kBlockUnits * kNr) * sizeof(float); }

template <typename Conv, typename Mac>
void BlockedMatMul(const void* weights, size_t weight_stride, int64_t n_rows, int64_t n, const void* act,
                   size_t act_stride, int64_t n_tokens, float* out, size_t out_stride, void* workspace) {
  float* panel = static_cast<float*>(workspace);
  float* tile = panel + PanelFloats();
  const int64_t n_units = (n + Conv::kPerUnit - 1) / Conv::kPerUnit;
  const auto* w = static_cast<const char*>(weights);
  const auto* a = static_cast<const char*>(act);
  for (int64_t r0 = 0; r0 < n_rows; r0 += kPanelRows) {
    const int rows = static_cast<int>(std::min(kPanelRows, n_rows - r0));
    for (int64_t u0 = 0; u0 < n_units; u0 += kBlockUnits) {
      const int64_t units = RoundUp(std::min(kBlockUnits, n_units - u0), kLanes);
      PackWeights<Conv>(w + r0 * weight_stride, weight_stride, rows, n, u0, units, panel);
      for (int64_t t0 = 0; t0 < n_tokens; t0 += kNr) {
        const int n_tok = static_cast<int>(std::min<int64_t>(kNr, n_tokens - t0));
        PackActivations<Conv>(a + t0 * act_stride, act_stride, n_tok, n, u0, units, tile);
        const MicroFn micro = MicroForTokens<Mac>(n_tok);
        for (int mr = 0; mr < rows; mr += kMr) {
          micro(units, panel + (mr / kMr) * units * kMr, tile, out + t0 * out_stride + r0 + mr, out_stride,
                std::min(kMr, rows - mr), u0 > 0);
        }
      }
    }
  }
}

// The F32-FMA kernels; gemm_float_avx512bf16.cc uses only the driver above.
[[maybe_unused]] void F16Blocked(const void* w, size_t ws, int64_t rows, int64_t n, const void* a, size_t as,
                                 int64_t tokens, float* out, size_t os, void* workspace) {
  BlockedMatMul<F16ToF32, FmaMac>(w, ws, rows, n, a, as, tokens, out, os, workspace);
}

[[maybe_unused]] void BF16Blocked(const void* w, size_t ws, int64_t rows, int64_t n, const void* a, size_t as,
                                  int64_t tokens, float* out, size_t os, void* workspace) {
  BlockedMatMul<BF16ToF32, FmaMac>(w, ws, rows, n, a, as, tokens, out, os, workspace);
}

[[maybe_unused]] std::span<const TypeKernelEntry> GemmFloatHere() {
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kF16,
       .vec_dot_type = GgmlType::kF16,
       .gemm = {.workspace_bytes = BlockedWorkspaceBytes, .blocked = F16Blocked}},
      {.type = GgmlType::kBF16,
       .vec_dot_type = GgmlType::kBF16,
       .gemm = {.workspace_bytes = BlockedWorkspaceBytes, .blocked = BF16Blocked}},
  };
  return kernels;
}

}  // namespace
}  // namespace quantlab::kernels_internal
