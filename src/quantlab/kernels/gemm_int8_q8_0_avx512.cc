// Batched (prompt-processing) kernel for the 32-element formats that take Q8_0 activations (Q8_0,
// Q4_0, Q5_0, IQ4_NL) on AVX-512 VNNI: the int8 panel scheme of gemm_int8_kquants_avx512.cc with one
// float scale per block of 32.
//
// Panel: 32 weight rows, each block decoded into unsigned bytes u = value + offset (Q8_0 and IQ4_NL: +128,
// Q4_0: the stored nibble, value + 8; Q5_0: the stored 5 bits, value + 16) and interleaved 4 bytes per
// row, so one zmm holds 4 elements of 16 rows. vpdpbusd against a token's 4 activation bytes broadcast to
// every lane advances 16 rows by 4 elements.
//
// Activations are packed once per token block: the block's 32 bytes, -offset * (sum of the block's
// activations) as int32, and its scale as a float. The int32 is the start value of the block's sum, so
//   isum = -offset * sum(y) + sum(u * y) = sum(value * y)
// exactly as the vec_dot's integer block sum, then acc += isum * (d_w * d_y) as there; only the order of
// the float additions over blocks differs.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "quantlab/kernels/int8_panel_avx512.inc.h"
#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

constexpr int kPanelRows = 32;     // two zmm of 16 rows: each broadcast activation feeds two vpdpbusd
constexpr int kTokensPerStep = 4;  // register block 32 rows x 4 tokens
constexpr int kChunkBlocks = 16;   // blocks per K-chunk: the chunk's panel (18 KB) stays in L1
constexpr int kMaxTokens = 512;    // the tile takes a whole token block, K-chunk by K-chunk

struct PanelBlock {
  alignas(64) uint8_t q[8][kPanelRows][4];  // [group][row][element in group]
  float d[kPanelRows];
};
static_assert(sizeof(PanelBlock) == 1152);

size_t PanelBytes(int64_t n) { return static_cast<size_t>(n / 32) * sizeof(PanelBlock); }

// A Q8_0 activation block, packed for the tile.
struct PackedBlock {
  int8_t qs[32];
  int32_t start;  // -offset * sum(qs)
  float d;
};
static_assert(sizeof(PackedBlock) == 40);

size_t PackedBytes(int64_t n) { return static_cast<size_t>(n / 32) * sizeof(PackedBlock); }

template <int kOffset>
void PackActivation(const void* row, int64_t n, void* dst) {
  const auto* y = static_cast<const BlockQ8_0*>(row);
  auto* out = static_cast<PackedBlock*>(dst);
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n / 32; ++b) {
    const __m256i q = LoadBytes32(y[b].qs);
    std::memcpy(out[b].qs, y[b].qs, 32);
    out[b].start = -kOffset * HsumInt8(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, q));
    out[b].d = HalfToFloat(y[b].d);
  }
}

// Unsigned bytes u = value + offset of block b of a row, in element order, and the block's scale.
__m256i DecodeQ8_0(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockQ8_0*>(row)[b];
  *d = HalfToFloat(x.d);
  return _mm256_xor_si256(LoadBytes32(x.qs), _mm256_set1_epi8(static_cast<char>(0x80)));
}

__m256i DecodeQ4_0(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockQ4_0*>(row)[b];
  *d = HalfToFloat(x.d);
  return NibblesLowThenHigh(x.qs);
}

__m256i DecodeQ5_0(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockQ5_0*>(row)[b];
  *d = HalfToFloat(x.d);
  const __m256i high = _mm256_and_si256(BitsToByteMask(LoadWord(x.qh)), _mm256_set1_epi8(16));
  return _mm256_or_si256(NibblesLowThenHigh(x.qs), high);
}

__m256i DecodeIQ4_NL(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockIQ4_NL*>(row)[b];
  *d = HalfToFloat(x.d);
  const __m256i table = _mm256_xor_si256(
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kIq4nlValues))),
      _mm256_set1_epi8(static_cast<char>(0x80)));
  return _mm256_shuffle_epi8(table, NibblesLowThenHigh(x.qs));
}

// Unpacks rows[0..n_rows) (padding rows: zero bytes and scale, so they add nothing) into one panel, two
// blocks per transpose (a 16x16 int32 transpose covers 2 blocks of 16 rows).
template <__m256i (*Decode)(const void*, int64_t, float*)>
void UnpackPanel(const void* const* rows, int n_rows, int64_t n, void* dst) {
  auto* panel = static_cast<PanelBlock*>(dst);
  const int64_t n_blocks = n / 32;
  for (int64_t b = 0; b < n_blocks; b += 2) {
    const bool pair = b + 1 < n_blocks;
    for (int half = 0; half < 2; ++half) {
      __m512i v[16];
      for (int i = 0; i < 16; ++i) {
        const int r = 16 * half + i;
        float d0 = 0.0f, d1 = 0.0f;
        __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
        if (r < n_rows) {
          lo = Decode(rows[r], b, &d0);
          if (pair) hi = Decode(rows[r], b + 1, &d1);
        }
        // Through memory: GCC 12 warns on every 256 -> 512-bit insert intrinsic (-Wmaybe-uninitialized).
        alignas(64) __m256i both[2] = {lo, hi};
        v[i] = _mm512_load_si512(both);
        panel[b].d[r] = d0;
        if (pair) panel[b + 1].d[r] = d1;
      }
      Transpose16x16(v);
      for (int g = 0; g < 8; ++g) _mm512_store_si512(panel[b].q[g][16 * half], v[g]);
      if (pair) {
        for (int g = 0; g < 8; ++g) _mm512_store_si512(panel[b + 1].q[g][16 * half], v[8 + g]);
      }
    }
  }
}

// 32 rows x T tokens over blocks [b0, b1): out (+)= the rows' dots with the tokens' activations.
template <int T>
void MicroTile(const PanelBlock* panel, int64_t b0, int64_t b1, const char* act, size_t act_stride,
               bool accumulate, __mmask16 mask0, __mmask16 mask1, float* out, size_t out_stride) {
  __m512 acc[2][T];
  for (int t = 0; t < T; ++t) {
    acc[0][t] = accumulate ? _mm512_maskz_loadu_ps(mask0, out + t * out_stride) : _mm512_setzero_ps();
    acc[1][t] = accumulate ? _mm512_maskz_loadu_ps(mask1, out + t * out_stride + 16) : _mm512_setzero_ps();
  }
  for (int64_t b = b0; b < b1; ++b) {
    const PanelBlock& p = panel[b];
    const PackedBlock* y[T];
    for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const PackedBlock*>(act + t * act_stride) + b;
    __m512i isum[2][T];
    for (int t = 0; t < T; ++t) isum[0][t] = isum[1][t] = _mm512_set1_epi32(y[t]->start);
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_load_si512(p.q[g][0]);
      const __m512i w1 = _mm512_load_si512(p.q[g][16]);
      for (int t = 0; t < T; ++t) {
        const __m512i yv = Broadcast4(y[t]->qs + 4 * g);
        isum[0][t] = _mm512_dpbusd_epi32(isum[0][t], w0, yv);
        isum[1][t] = _mm512_dpbusd_epi32(isum[1][t], w1, yv);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const __m512 d = _mm512_load_ps(p.d + 16 * h);
      for (int t = 0; t < T; ++t) {
        const __m512 scale = _mm512_mul_ps(d, _mm512_set1_ps(y[t]->d));
        acc[h][t] = _mm512_fmadd_ps(ToFloat(isum[h][t]), scale, acc[h][t]);
      }
    }
  }
  for (int t = 0; t < T; ++t) {
    _mm512_mask_storeu_ps(out + t * out_stride, mask0, acc[0][t]);
    _mm512_mask_storeu_ps(out + t * out_stride + 16, mask1, acc[1][t]);
  }
}

// The whole token block against one panel, K-chunk by K-chunk, kTokensPerStep tokens at a time; later
// chunks add to the output.
void PanelGemmTile(int64_t n, const void* const* panel, int n_rows, const void* act, size_t act_stride,
                   int n_tokens, float* out, size_t out_stride) {
  const auto* p = static_cast<const PanelBlock*>(panel[0]);
  const auto* a = static_cast<const char*>(act);
  const auto mask0 = static_cast<__mmask16>((1u << std::min(n_rows, 16)) - 1);
  const auto mask1 = static_cast<__mmask16>((1u << std::max(n_rows - 16, 0)) - 1);
  for (int64_t b0 = 0; b0 < n / 32; b0 += kChunkBlocks) {
    const int64_t b1 = std::min<int64_t>(n / 32, b0 + kChunkBlocks);
    const bool accumulate = b0 > 0;
    int t = 0;
    for (; t + kTokensPerStep <= n_tokens; t += kTokensPerStep) {
      MicroTile<kTokensPerStep>(p, b0, b1, a + t * act_stride, act_stride, accumulate, mask0, mask1,
                                out + t * out_stride, out_stride);
    }
    static_assert(kTokensPerStep == 4);
    float* o = out + t * out_stride;
    switch (n_tokens - t) {
      case 3:
        MicroTile<3>(p, b0, b1, a + t * act_stride, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      case 2:
        MicroTile<2>(p, b0, b1, a + t * act_stride, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      case 1:
        MicroTile<1>(p, b0, b1, a + t * act_stride, act_stride, accumulate, mask0, mask1, o, out_stride);
        break;
      default:
        break;
    }
  }
}

template <__m256i (*Decode)(const void*, int64_t, float*), int kOffset>
constexpr GemmKernel Q8_0PanelGemm() {
  return {.unpacked_row_bytes = PanelBytes,
          .tile = PanelGemmTile,
          .max_rows = kPanelRows,
          .max_tokens = kMaxTokens,
          .unpack_panel = UnpackPanel<Decode>,
          .packed_activation_bytes = PackedBytes,
          .pack_activation = PackActivation<kOffset>};
}

}  // namespace

std::span<const TypeKernelEntry> GemmInt8Q8_0Avx512() {
  constexpr GgmlType kQ8_0 = GgmlType::kQ8_0;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ8_0, .vec_dot_type = kQ8_0, .gemm = Q8_0PanelGemm<DecodeQ8_0, 128>()},
      {.type = GgmlType::kQ4_0, .vec_dot_type = kQ8_0, .gemm = Q8_0PanelGemm<DecodeQ4_0, 8>()},
      {.type = GgmlType::kQ5_0, .vec_dot_type = kQ8_0, .gemm = Q8_0PanelGemm<DecodeQ5_0, 16>()},
      {.type = GgmlType::kIQ4_NL, .vec_dot_type = kQ8_0, .gemm = Q8_0PanelGemm<DecodeIQ4_NL, 128>()},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
