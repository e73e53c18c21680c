// Batched (prompt-processing) kernels for the K-quants (Q2_K..Q6_K) on AVX-512 VNNI: one int8 matrix
// kernel for every K-quant, as near the int8 peak as exact integer arithmetic allows.
//
// Panel: 16 weight rows are unpacked together, super-block by super-block, into unsigned bytes (Q2_K
// 0..3, Q3_K q+4 in 0..7, Q4_K 0..15, Q5_K 0..31, Q6_K q+32 in 0..63: kquants_unpack.inc.h) interleaved
// 4 bytes per row, so one zmm holds 4 consecutive elements of all 16 rows (one row per int32 lane).
// vpdpbusd of that zmm with a token's 4 activation bytes broadcast to every lane (embedded {1to16}
// broadcast) advances 16 rows by 4 elements; the weight zmm is reused by every token of the register
// block, and the panel by every token of the token block.
//
// Per sub-block (16 elements, or 32 for Q4_K/Q5_K whose scales are per 32) the int32 sums are multiplied
// by the rows' integer sub-block scales (vpmulld) and added up; the formats' offsets (Q3_K's -4, Q6_K's
// -32) and mins (Q2_K, Q4_K, Q5_K) are the per-16 multipliers of Q8_K's bsums, applied with vpdpwssd. So
// each (row, token, super-block) gets exactly the integers the vec_dot computes, and then, as there,
//   acc += (d * yd) * isum  [- (dmin * yd) * min_sum];
// only the order of the float additions over super-blocks differs from the vec_dot's.
#include <immintrin.h>

#include <array>
#include <cstring>

#include "quantlab/kernels/kquants_unpack.inc.h"
#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

constexpr int kPanelRows = 16;
constexpr int kMaxTokens = 8;  // register block: 3 x 8 zmm accumulators (sub-block, super-block, float)
constexpr int kGroups = kQK_K / 4;

// One super-block of a panel. kSubLen: elements per integer scale (16 or 32).
template <int kSubLen>
struct PanelSuperBlock {
  static constexpr int kSubs = kQK_K / kSubLen;
  alignas(64) uint8_t q[kGroups][kPanelRows][4];  // [group][row][element in group]
  int32_t scales[kSubs][kPanelRows];
  uint32_t bsum_coef[8][kPanelRows];  // int16 pair (multiplier of bsums 2j, 2j+1) per row
  float d[kPanelRows];
  float dmin[kPanelRows];
};
static_assert(sizeof(PanelSuperBlock<16>) % 64 == 0 && sizeof(PanelSuperBlock<32>) % 64 == 0);

template <int kSubLen>
size_t PanelBytes(int64_t n) {
  return static_cast<size_t>(n / kQK_K) * sizeof(PanelSuperBlock<kSubLen>);
}

// GCC 12's headers build the unmasked forms of these from an undefined vector and then warn
// (-Wmaybe-uninitialized) about it; the zero-masked forms with every lane selected are the same
// instruction.
constexpr __mmask16 kAll16 = 0xFFFF;
constexpr __mmask8 kAll8 = 0xFF;
inline __m512i UnpackLo32(__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi32(kAll16, a, b); }
inline __m512i UnpackHi32(__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi32(kAll16, a, b); }
inline __m512i UnpackLo64(__m512i a, __m512i b) { return _mm512_maskz_unpacklo_epi64(kAll8, a, b); }
inline __m512i UnpackHi64(__m512i a, __m512i b) { return _mm512_maskz_unpackhi_epi64(kAll8, a, b); }
template <int kImm>
inline __m512i Shuffle128(__m512i a, __m512i b) {
  return _mm512_maskz_shuffle_i32x4(kAll16, a, b, kImm);
}
inline __m512 ToFloat(__m512i v) { return _mm512_maskz_cvtepi32_ps(kAll16, v); }

// r[i] holds 16 int32 of row i; afterwards r[k] holds int32 k of rows 0..15.
void Transpose16x16(__m512i (&r)[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = UnpackLo32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = UnpackHi32(r[2 * i], r[2 * i + 1]);
  }
  // Per 128-bit lane L, u[4i + k] holds column 4L + k of rows 4i..4i+3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = UnpackLo64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = UnpackHi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = UnpackLo64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = UnpackHi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512i even01 = Shuffle128<0x88>(u[k], u[4 + k]);  // lanes 0, 2 of rows 0..7
    const __m512i even23 = Shuffle128<0x88>(u[8 + k], u[12 + k]);
    const __m512i odd01 = Shuffle128<0xDD>(u[k], u[4 + k]);  // lanes 1, 3
    const __m512i odd23 = Shuffle128<0xDD>(u[8 + k], u[12 + k]);
    r[k] = Shuffle128<0x88>(even01, even23);
    r[8 + k] = Shuffle128<0xDD>(even01, even23);
    r[4 + k] = Shuffle128<0x88>(odd01, odd23);
    r[12 + k] = Shuffle128<0xDD>(odd01, odd23);
  }
}

// Unpacks rows[0..n_rows) (padding rows: all zero, so they add nothing) into one panel.
// kMinsApart: the bsums multipliers are mins (scaled by dmin), else offsets (scaled by d).
template <int kSubLen, bool kMinsApart, size_t kBlockBytes, void (*kUnpackRow)(const void*, int64_t, void*)>
void UnpackPanel(const void* const* rows, int n_rows, int64_t n, void* dst) {
  auto* panel = static_cast<PanelSuperBlock<kSubLen>*>(dst);
  UnpackedSuperBlock u[kPanelRows];
  std::memset(static_cast<void*>(u + n_rows), 0, sizeof(UnpackedSuperBlock) * (kPanelRows - n_rows));
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    PanelSuperBlock<kSubLen>& p = panel[b];
    for (int r = 0; r < n_rows; ++r)
      kUnpackRow(static_cast<const uint8_t*>(rows[r]) + b * kBlockBytes, kQK_K, &u[r]);
    for (int chunk = 0; chunk < kQK_K / 64; ++chunk) {
      __m512i v[16];
      for (int r = 0; r < kPanelRows; ++r) v[r] = _mm512_loadu_si512(u[r].q + 64 * chunk);
      Transpose16x16(v);
      for (int g = 0; g < 16; ++g) _mm512_store_si512(p.q[16 * chunk + g], v[g]);
    }
    for (int r = 0; r < kPanelRows; ++r) {
      // scales[c] lanes 0..7 hold the scale of elements 32c..32c+15, lanes 8..15 of 32c+16..32c+31.
      for (int s = 0; s < PanelSuperBlock<kSubLen>::kSubs; ++s) {
        const int e = s * kSubLen;
        p.scales[s][r] = u[r].scales[e / 32][(e % 32) / 2];
      }
      const int16_t* coef = kMinsApart ? u[r].bsum_min : u[r].bsum_d;
      for (int j = 0; j < 8; ++j) std::memcpy(&p.bsum_coef[j][r], coef + 2 * j, 4);
      p.d[r] = u[r].d;
      p.dmin[r] = u[r].dmin;
    }
  }
}

inline __m512i Broadcast4(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

template <int kSubLen, bool kMinsApart, int T>
void PanelTile(int64_t n, const void* panel_ptr, int n_rows, const void* act, size_t act_stride, float* out,
               size_t out_stride) {
  using Panel = PanelSuperBlock<kSubLen>;
  constexpr int kGroupsPerSub = kSubLen / 4;
  const auto* panel = static_cast<const Panel*>(panel_ptr);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const Panel& p = panel[b];
    const BlockQ8_K* y[T];
    for (int t = 0; t < T; ++t) {
      y[t] = reinterpret_cast<const BlockQ8_K*>(static_cast<const char*>(act) + t * act_stride) + b;
    }
    __m512i isum[T];
    for (int t = 0; t < T; ++t) isum[t] = _mm512_setzero_si512();
    for (int s = 0; s < Panel::kSubs; ++s) {
      __m512i sub[T];
      for (int t = 0; t < T; ++t) sub[t] = _mm512_setzero_si512();
      for (int g = s * kGroupsPerSub; g < (s + 1) * kGroupsPerSub; ++g) {
        const __m512i w = _mm512_load_si512(p.q[g]);
        for (int t = 0; t < T; ++t) sub[t] = _mm512_dpbusd_epi32(sub[t], w, Broadcast4(y[t]->qs + 4 * g));
      }
      const __m512i scale = _mm512_loadu_si512(p.scales[s]);
      for (int t = 0; t < T; ++t) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(sub[t], scale));
    }
    __m512i corr[T];
    for (int t = 0; t < T; ++t) corr[t] = kMinsApart ? _mm512_setzero_si512() : isum[t];
    for (int j = 0; j < 8; ++j) {
      const __m512i coef = _mm512_loadu_si512(p.bsum_coef[j]);
      for (int t = 0; t < T; ++t)
        corr[t] = _mm512_dpwssd_epi32(corr[t], coef, Broadcast4(y[t]->bsums + 2 * j));
    }
    const __m512 d = _mm512_loadu_ps(p.d);
    for (int t = 0; t < T; ++t) {
      const __m512 yd = _mm512_set1_ps(y[t]->d);
      if constexpr (kMinsApart) {
        acc[t] = _mm512_fmadd_ps(ToFloat(isum[t]), _mm512_mul_ps(d, yd), acc[t]);
        acc[t] = _mm512_fnmadd_ps(ToFloat(corr[t]), _mm512_mul_ps(_mm512_loadu_ps(p.dmin), yd), acc[t]);
      } else {
        acc[t] = _mm512_fmadd_ps(ToFloat(corr[t]), _mm512_mul_ps(d, yd), acc[t]);
      }
    }
  }
  const __mmask16 mask = static_cast<__mmask16>((1u << n_rows) - 1);
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(out + t * out_stride, mask, acc[t]);
}

template <int kSubLen, bool kMinsApart>
void PanelGemmTile(int64_t n, const void* const* panel, int n_rows, const void* act, size_t act_stride,
                   int n_tokens, float* out, size_t out_stride) {
  static_assert(kMaxTokens == 8);
  constexpr auto kTiles = [] {
    std::array<void (*)(int64_t, const void*, int, const void*, size_t, float*, size_t), kMaxTokens> tiles{};
    tiles[0] = PanelTile<kSubLen, kMinsApart, 1>;
    tiles[1] = PanelTile<kSubLen, kMinsApart, 2>;
    tiles[2] = PanelTile<kSubLen, kMinsApart, 3>;
    tiles[3] = PanelTile<kSubLen, kMinsApart, 4>;
    tiles[4] = PanelTile<kSubLen, kMinsApart, 5>;
    tiles[5] = PanelTile<kSubLen, kMinsApart, 6>;
    tiles[6] = PanelTile<kSubLen, kMinsApart, 7>;
    tiles[7] = PanelTile<kSubLen, kMinsApart, 8>;
    return tiles;
  }();
  kTiles[n_tokens - 1](n, panel[0], n_rows, act, act_stride, out, out_stride);
}

template <typename Block, int kSubLen, bool kMinsApart, void (*kUnpackRow)(const void*, int64_t, void*)>
constexpr GemmKernel KQuantPanelGemm() {
  return {.unpacked_row_bytes = PanelBytes<kSubLen>,
          .tile = PanelGemmTile<kSubLen, kMinsApart>,
          .max_rows = kPanelRows,
          .max_tokens = kMaxTokens,
          .unpack_panel = UnpackPanel<kSubLen, kMinsApart, sizeof(Block), kUnpackRow>};
}

}  // namespace

std::span<const TypeKernelEntry> GemmInt8KQuantsAvx512() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ2_K,
       .vec_dot_type = kQ8_K,
       .gemm = KQuantPanelGemm<BlockQ2_K, 16, true, UnpackQ2_K>()},
      {.type = GgmlType::kQ3_K,
       .vec_dot_type = kQ8_K,
       .gemm = KQuantPanelGemm<BlockQ3_K, 16, false, UnpackQ3_K>()},
      {.type = GgmlType::kQ4_K,
       .vec_dot_type = kQ8_K,
       .gemm = KQuantPanelGemm<BlockQ4_K, 32, true, UnpackQ4_K>()},
      {.type = GgmlType::kQ5_K,
       .vec_dot_type = kQ8_K,
       .gemm = KQuantPanelGemm<BlockQ5_K, 32, true, UnpackQ5_K>()},
      {.type = GgmlType::kQ6_K,
       .vec_dot_type = kQ8_K,
       .gemm = KQuantPanelGemm<BlockQ6_K, 16, false, UnpackQ6_K>()},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
