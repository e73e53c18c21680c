// The AVX-512 VNNI int8 panel kernel for every weight format that takes Q8_K activations and unpacks into
// the K-quants' common form (UnpackedSuperBlock, kquants_unpack.inc.h): the K-quants
// (gemm_int8_kquants_avx512.cc, whose header comment explains the scheme) and the i-quants
// (gemm_int8_iquants_avx512.cc, iquants_unpack.inc.h). A format contributes its per-row unpacker and its
// FormatTraits; Q8KPanelGemm<Block, traits, unpacker>() is its GemmKernel.
//
// Include only from files compiled with the AVX-512 flags; everything is in an unnamed namespace, so
// each includer gets its own copy.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "quantlab/kernels/int8_panel_avx512.inc.h"
#include "quantlab/kernels/kquants_unpack.inc.h"
#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {
namespace {

constexpr int kPanelRows = 32;     // two zmm of 16 rows: each broadcast activation feeds two vpdpbusd
constexpr int kTokensPerStep = 6;  // register block 32 rows x 6 tokens (12 x 2 integer accumulators)
constexpr int kChunkBlocks = 2;    // super-blocks per K-chunk: the chunk's panel (~23 KB) stays in L1
constexpr int kMaxTokens = 512;    // the tile takes a whole token block, K-chunk by K-chunk
constexpr int kGroups = kQK_K / 4;

// How a format's sums are scaled. kSubLen: elements per integer scale in the panel (Q4_K's per-32
// scales are stored per 16). kSumsFitInt16: a sub-block's sum of unsigned weight x activation fits in
// int16 (16 x 15 x 128 < 2^15 for Q4_K, smaller for Q2_K/Q3_K), so vpdpwssd with (scale, 0) int16 pairs
// multiplies and accumulates it in one instruction instead of vpmulld + vpaddd. kMinsApart: the bsums
// multipliers are mins (scaled by dmin), else offsets (scaled by d).
struct FormatTraits {
  int sub_len;
  bool sums_fit_int16;
  bool mins_apart;
};

// One super-block of a 32-row panel.
template <int kSubLen>
struct PanelSuperBlock {
  static constexpr int kSubs = kQK_K / kSubLen;
  alignas(64) uint8_t q[kGroups][kPanelRows][4];  // [group][row][element in group]
  int32_t scales[kSubs][kPanelRows];              // or (scale, 0) int16 pairs for vpdpwssd
  uint32_t bsum_coef[8][kPanelRows];              // int16 pair: multipliers of bsums 2j, 2j+1
  float d[kPanelRows];
  float dmin[kPanelRows];
};
static_assert(sizeof(PanelSuperBlock<16>) % 64 == 0 && sizeof(PanelSuperBlock<32>) % 64 == 0);

template <int kSubLen>
size_t PanelBytes(int64_t n) {
  return static_cast<size_t>(n / kQK_K) * sizeof(PanelSuperBlock<kSubLen>);
}

// Unpacks rows[0..n_rows) (padding rows: all zero, so they add nothing) into one panel.
template <FormatTraits kF, size_t kBlockBytes, void (*kUnpackRow)(const void*, int64_t, void*)>
void UnpackPanel(const void* const* rows, int n_rows, int64_t n, void* dst) {
  using Panel = PanelSuperBlock<kF.sub_len>;
  auto* panel = static_cast<Panel*>(dst);
  UnpackedSuperBlock u[kPanelRows];
  std::memset(static_cast<void*>(u + n_rows), 0, sizeof(UnpackedSuperBlock) * (kPanelRows - n_rows));
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    Panel& p = panel[b];
    for (int r = 0; r < n_rows; ++r)
      kUnpackRow(static_cast<const uint8_t*>(rows[r]) + b * kBlockBytes, kQK_K, &u[r]);
    for (int half = 0; half < 2; ++half) {
      for (int chunk = 0; chunk < kQK_K / 64; ++chunk) {
        __m512i v[16];
        for (int r = 0; r < 16; ++r) v[r] = _mm512_loadu_si512(u[16 * half + r].q + 64 * chunk);
        Transpose16x16(v);
        for (int g = 0; g < 16; ++g) _mm512_store_si512(p.q[16 * chunk + g][16 * half], v[g]);
      }
    }
    for (int r = 0; r < kPanelRows; ++r) {
      // scales[c] lanes 0..7 hold the scale of elements 32c..32c+15, lanes 8..15 of 32c+16..32c+31.
      for (int s = 0; s < Panel::kSubs; ++s) {
        const int e = s * kF.sub_len;
        const int16_t scale = u[r].scales[e / 32][(e % 32) / 2];
        p.scales[s][r] = kF.sums_fit_int16 ? static_cast<uint16_t>(scale) : scale;
      }
      const int16_t* coef = kF.mins_apart ? u[r].bsum_min : u[r].bsum_d;
      for (int j = 0; j < 8; ++j) std::memcpy(&p.bsum_coef[j][r], coef + 2 * j, 4);
      p.d[r] = u[r].d;
      p.dmin[r] = u[r].dmin;
    }
  }
}

// 32 rows x T tokens over super-blocks [b0, b1): out (+)= the rows' dots with the tokens' activations.
template <FormatTraits kF, int T>
void MicroTile(const PanelSuperBlock<kF.sub_len>* panel, int64_t b0, int64_t b1, const char* act,
               size_t act_stride, bool accumulate, __mmask16 mask0, __mmask16 mask1, float* out,
               size_t out_stride) {
  using Panel = PanelSuperBlock<kF.sub_len>;
  constexpr int kGroupsPerSub = kF.sub_len / 4;
  for (int64_t b = b0; b < b1; ++b) {
    const Panel& p = panel[b];
    const BlockQ8_K* y[T];
    for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8_K*>(act + t * act_stride) + b;
    __m512i isum[2][T];
    for (int t = 0; t < T; ++t) isum[0][t] = isum[1][t] = _mm512_setzero_si512();
    for (int s = 0; s < Panel::kSubs; ++s) {
      __m512i sub[2][T];
      for (int t = 0; t < T; ++t) sub[0][t] = sub[1][t] = _mm512_setzero_si512();
        // Unrolled in full: a rolled loop makes GCC copy every accumulator twice per iteration.
#pragma GCC unroll 8
      for (int i = 0; i < kGroupsPerSub; ++i) {
        const int g = s * kGroupsPerSub + i;
        const __m512i w0 = _mm512_load_si512(p.q[g][0]);
        const __m512i w1 = _mm512_load_si512(p.q[g][16]);
        for (int t = 0; t < T; ++t) {
          const __m512i yv = Broadcast4(y[t]->qs + 4 * g);
          sub[0][t] = _mm512_dpbusd_epi32(sub[0][t], w0, yv);
          sub[1][t] = _mm512_dpbusd_epi32(sub[1][t], w1, yv);
        }
      }
      for (int h = 0; h < 2; ++h) {
        const __m512i scale = _mm512_loadu_si512(p.scales[s] + 16 * h);
        for (int t = 0; t < T; ++t) {
          isum[h][t] = kF.sums_fit_int16 ? _mm512_dpwssd_epi32(isum[h][t], sub[h][t], scale)
                                         : _mm512_add_epi32(isum[h][t], _mm512_mullo_epi32(sub[h][t], scale));
        }
      }
    }
    for (int h = 0; h < 2; ++h) {
      __m512i corr[T];
      for (int t = 0; t < T; ++t) corr[t] = kF.mins_apart ? _mm512_setzero_si512() : isum[h][t];
      for (int j = 0; j < 8; ++j) {
        const __m512i coef = _mm512_loadu_si512(p.bsum_coef[j] + 16 * h);
        for (int t = 0; t < T; ++t)
          corr[t] = _mm512_dpwssd_epi32(corr[t], coef, Broadcast4(y[t]->bsums + 2 * j));
      }
      const __m512 d = _mm512_loadu_ps(p.d + 16 * h);
      const __mmask16 mask = h == 0 ? mask0 : mask1;
      // The float sums live in `out` (one load and store per super-block), leaving the registers to the
      // integer accumulators.
      const bool first = b == b0 && !accumulate;
      for (int t = 0; t < T; ++t) {
        float* o = out + t * out_stride + 16 * h;
        __m512 acc = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, o);
        const __m512 yd = _mm512_set1_ps(y[t]->d);
        if constexpr (kF.mins_apart) {
          const __m512 dmin = _mm512_loadu_ps(p.dmin + 16 * h);
          acc = _mm512_fmadd_ps(ToFloat(isum[h][t]), _mm512_mul_ps(d, yd), acc);
          acc = _mm512_fnmadd_ps(ToFloat(corr[t]), _mm512_mul_ps(dmin, yd), acc);
        } else {
          acc = _mm512_fmadd_ps(ToFloat(corr[t]), _mm512_mul_ps(d, yd), acc);
        }
        _mm512_mask_storeu_ps(o, mask, acc);
      }
    }
  }
}

// The whole token block against one panel: K-chunk by K-chunk (the chunk of the panel stays in L1 while
// every token passes over it), kTokensPerStep tokens at a time; later chunks add to the output.
template <FormatTraits kF>
void PanelGemmTile(int64_t n, const void* const* panel, int n_rows, const void* act, size_t act_stride,
                   int n_tokens, float* out, size_t out_stride) {
  const auto* p = static_cast<const PanelSuperBlock<kF.sub_len>*>(panel[0]);
  const auto* a = static_cast<const char*>(act);
  const auto mask0 = static_cast<__mmask16>((1u << std::min(n_rows, 16)) - 1);
  const auto mask1 = static_cast<__mmask16>((1u << std::max(n_rows - 16, 0)) - 1);
  for (int64_t b0 = 0; b0 < n / kQK_K; b0 += kChunkBlocks) {
    const int64_t b1 = std::min<int64_t>(n / kQK_K, b0 + kChunkBlocks);
    const bool accumulate = b0 > 0;
    int t = 0;
    for (; t + kTokensPerStep <= n_tokens; t += kTokensPerStep) {
      MicroTile<kF, kTokensPerStep>(p, b0, b1, a + t * act_stride, act_stride, accumulate, mask0, mask1,
                                    out + t * out_stride, out_stride);
    }
    static_assert(kTokensPerStep == 6);
    const char* at = a + t * act_stride;
    float* o = out + t * out_stride;
    switch (n_tokens - t) {
      case 5:
        MicroTile<kF, 5>(p, b0, b1, at, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      case 4:
        MicroTile<kF, 4>(p, b0, b1, at, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      case 3:
        MicroTile<kF, 3>(p, b0, b1, at, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      case 2:
        MicroTile<kF, 2>(p, b0, b1, at, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      case 1:
        MicroTile<kF, 1>(p, b0, b1, at, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      default:
        break;
    }
  }
}

template <typename Block, FormatTraits kF, void (*kUnpackRow)(const void*, int64_t, void*)>
constexpr GemmKernel Q8KPanelGemm() {
  return {.unpacked_row_bytes = PanelBytes<kF.sub_len>,
          .tile = PanelGemmTile<kF>,
          .max_rows = kPanelRows,
          .max_tokens = kMaxTokens,
          .unpack_panel = UnpackPanel<kF, sizeof(Block), kUnpackRow>};
}

}  // namespace
}  // namespace quantlab::kernels_internal
