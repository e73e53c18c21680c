// Batched (prompt-processing) kernel for the 32-element formats that take Q8_0 activations (Q8_0, Q4_0,
// Q5_0), for AVX-512 VL + VNNI. Weight rows sit in the lanes: 16 rows are unpacked together into a panel
// where each 32-byte vector holds one 4-byte group of a block for 8 rows, so one vpdpbusd against a
// broadcast 4-byte group of a token's block advances 8 rows at once, and a block's float work (convert,
// scale, accumulate) is one instruction per 8 rows instead of one per row.
//
// vpdpbusd multiplies unsigned by signed bytes: the activation bytes are flipped to u = y + 128 (xor
// 0x80), so sum u * q = sum y * q + 128 * sum q, and each row's block sum starts at -128 * sum q,
// computed once when the panel is built.
//
// Per (row, token) the result is sum over blocks of float(isum) * (d_w * d_y), accumulated block after
// block in one float lane; vec_dot accumulates 8 lane-partial sums instead, so the two differ in the
// order of float additions only (the integer block sums are exact).
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "quantlab/kernels/registry.h"
#include "quantlab/kernels/simd_avx2.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

constexpr int kPanelRows = 16;
constexpr int kMaxTokens = 4;
// Per block: 8 groups x 2 halves x 32 bytes of weights, then 2 x 8 int32 start values, 2 x 8 scales.
constexpr size_t kWeightBytes = 8 * 2 * 32;
constexpr size_t kStartOffset = kWeightBytes;
constexpr size_t kScaleOffset = kStartOffset + 2 * 32;
constexpr size_t kPanelBlockBytes = kScaleOffset + 2 * 32;

size_t PanelBytes(int64_t n) { return static_cast<size_t>(n / 32) * kPanelBlockBytes; }

// Signed weights of block b of a row, and its scale.
__m256i DecodeQ8_0(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockQ8_0*>(row)[b];
  *d = HalfToFloat(x.d);
  return LoadBytes32(x.qs);
}

__m256i DecodeQ4_0(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockQ4_0*>(row)[b];
  *d = HalfToFloat(x.d);
  return _mm256_sub_epi8(NibblesLowThenHigh(x.qs), _mm256_set1_epi8(8));
}

__m256i DecodeQ5_0(const void* row, int64_t b, float* d) {
  const auto& x = static_cast<const BlockQ5_0*>(row)[b];
  *d = HalfToFloat(x.d);
  const __m256i high = _mm256_and_si256(BitsToByteMask(LoadWord(x.qh)), _mm256_set1_epi8(16));
  return _mm256_sub_epi8(_mm256_or_si256(NibblesLowThenHigh(x.qs), high), _mm256_set1_epi8(16));
}

// v[i] holds 8 int32 groups of row i; afterwards v[k] holds group k of rows 0..7.
void Transpose8x8(__m256i (&v)[8]) {
  __m256i t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_epi32(v[2 * i], v[2 * i + 1]);      // groups 0,1 | 4,5 of rows 2i, 2i+1
    t[2 * i + 1] = _mm256_unpackhi_epi32(v[2 * i], v[2 * i + 1]);  // groups 2,3 | 6,7
  }
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);      // group 0 | 4 of 4 rows
    u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);      // group 1 | 5
    u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);  // group 2 | 6
    u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);  // group 3 | 7
  }
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
    v[k + 4] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
  }
}

template <__m256i (*Decode)(const void*, int64_t, float*)>
void UnpackPanel(const void* const* rows, int n_rows, int64_t n, void* dst) {
  const __m256i ones = _mm256_set1_epi8(1);
  for (int64_t b = 0; b < n / 32; ++b) {
    auto* p = static_cast<uint8_t*>(dst) + b * kPanelBlockBytes;
    for (int half = 0; half < 2; ++half) {
      __m256i v[8];
      alignas(32) float d[8];
      alignas(32) int32_t start[8];
      for (int i = 0; i < 8; ++i) {
        const int r = half * 8 + i;
        if (r < n_rows) {
          v[i] = Decode(rows[r], b, &d[i]);
          start[i] = -128 * HsumInt8(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ones, v[i]));
        } else {
          v[i] = _mm256_setzero_si256();  // padding row: no weights, scale 0
          d[i] = 0.0f;
          start[i] = 0;
        }
      }
      Transpose8x8(v);
      for (int k = 0; k < 8; ++k)
        _mm256_store_si256(reinterpret_cast<__m256i*>(p + k * 64 + half * 32), v[k]);
      std::memcpy(p + kStartOffset + half * 32, start, sizeof start);
      std::memcpy(p + kScaleOffset + half * 32, d, sizeof d);
    }
  }
}

template <int T>
void PanelTile(int64_t n, const void* const* panel, int n_rows, const void* act, size_t act_stride,
               float* out, size_t out_stride) {
  const BlockQ8_0* y[T];
  for (int t = 0; t < T; ++t) {
    y[t] = reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(act) + t * act_stride);
  }
  __m256 acc[T][2];
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < n / 32; ++b) {
    const auto* p = static_cast<const uint8_t*>(panel[0]) + b * kPanelBlockBytes;
    __m256i w[16];
    for (int i = 0; i < 16; ++i) w[i] = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + 32 * i));
    for (int t = 0; t < T; ++t) {
      __m256i sum0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + kStartOffset));
      __m256i sum1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(p + kStartOffset + 32));
      const int8_t* qs = y[t][b].qs;
      for (int k = 0; k < 8; ++k) {
        const __m256i u = _mm256_xor_si256(
            _mm256_set1_epi32(static_cast<int>(LoadWord(reinterpret_cast<const uint8_t*>(qs) + 4 * k))),
            flip);
        sum0 = _mm256_dpbusd_epi32(sum0, u, w[2 * k]);
        sum1 = _mm256_dpbusd_epi32(sum1, u, w[2 * k + 1]);
      }
      const __m256 dy = _mm256_set1_ps(HalfToFloat(y[t][b].d));
      const __m256 d0 = _mm256_mul_ps(_mm256_load_ps(reinterpret_cast<const float*>(p + kScaleOffset)), dy);
      const __m256 d1 =
          _mm256_mul_ps(_mm256_load_ps(reinterpret_cast<const float*>(p + kScaleOffset + 32)), dy);
      acc[t][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum0), d0, acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum1), d1, acc[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float* o = out + t * out_stride;
    if (n_rows == kPanelRows) {
      _mm256_storeu_ps(o, acc[t][0]);
      _mm256_storeu_ps(o + 8, acc[t][1]);
    } else {
      const __mmask8 m0 = static_cast<__mmask8>((1u << std::min(n_rows, 8)) - 1);
      const __mmask8 m1 = static_cast<__mmask8>((1u << std::max(n_rows - 8, 0)) - 1);
      _mm256_mask_storeu_ps(o, m0, acc[t][0]);
      _mm256_mask_storeu_ps(o + 8, m1, acc[t][1]);
    }
  }
}

void PanelGemmTile(int64_t n, const void* const* panel, int n_rows, const void* act, size_t act_stride,
                   int n_tokens, float* out, size_t out_stride) {
  static_assert(kMaxTokens == 4);
  switch (n_tokens) {
    case 1:
      return PanelTile<1>(n, panel, n_rows, act, act_stride, out, out_stride);
    case 2:
      return PanelTile<2>(n, panel, n_rows, act, act_stride, out, out_stride);
    case 3:
      return PanelTile<3>(n, panel, n_rows, act, act_stride, out, out_stride);
    default:
      return PanelTile<4>(n, panel, n_rows, act, act_stride, out, out_stride);
  }
}

GemmKernel PanelGemm(void (*unpack_panel)(const void* const*, int, int64_t, void*)) {
  return {.unpacked_row_bytes = PanelBytes,
          .tile = PanelGemmTile,
          .max_rows = kPanelRows,
          .max_tokens = kMaxTokens,
          .unpack_panel = unpack_panel};
}

}  // namespace

std::span<const TypeKernelEntry> GemmQ8Avx512() {
  constexpr GgmlType kQ8_0 = GgmlType::kQ8_0;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ8_0, .vec_dot_type = kQ8_0, .gemm = PanelGemm(UnpackPanel<DecodeQ8_0>)},
      {.type = GgmlType::kQ4_0, .vec_dot_type = kQ8_0, .gemm = PanelGemm(UnpackPanel<DecodeQ4_0>)},
      {.type = GgmlType::kQ5_0, .vec_dot_type = kQ8_0, .gemm = PanelGemm(UnpackPanel<DecodeQ5_0>)},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
