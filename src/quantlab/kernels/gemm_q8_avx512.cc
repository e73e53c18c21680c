// Batched (prompt-processing) kernels for the 32-element formats that take Q8_0 activations (Q8_0, Q4_0,
// Q5_0), AVX-512 VL + VNNI on 256-bit vectors (32 registers, vpdpbusd).
//
// A weight row is unpacked once per token block to unsigned bytes u = q + 128 plus one float scale per
// block. vpdpbusd multiplies unsigned by signed bytes, so per block
//   sum q*y = sum u*y - 128 * sum y,
// and the accumulator starts at -128 * (sum of y over each lane's 4 bytes), computed once per token and
// block and shared by all rows of the tile: the integer part is one vpdpbusd per (row, token, block).
#include <immintrin.h>

#include <cstring>

#include "quantlab/kernels/kernel_impl.h"
#include "quantlab/quant/blocks.h"

namespace quantlab::kernels_internal {
namespace {

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

inline float HsumFloat8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Row layout: n bytes u, then n / 32 floats d.
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
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[b].qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(u + 32 * b), _mm256_xor_si256(q, flip));
    d[b] = HalfToFloat(x[b].d);
  }
}

// Q4_0 / Q5_0 nibbles: low nibbles are elements 0..15, high nibbles 16..31.
inline __m256i Nibbles(const uint8_t* qs) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
}

void UnpackQ4_0(const void* row, int64_t n, void* dst) {
  const auto* x = static_cast<const BlockQ4_0*>(row);
  auto* u = static_cast<uint8_t*>(dst);
  float* d = Scales(dst, n);
  for (int64_t b = 0; b < n / kQK4_0; ++b) {
    // (nibble - 8) + 128
    const __m256i v = _mm256_add_epi8(Nibbles(x[b].qs), _mm256_set1_epi8(120));
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
    // Fifth bits as a byte mask: bit i of qh -> byte i.
    const __m256i high = _mm256_maskz_set1_epi8(static_cast<__mmask32>(qh), 16);
    // (nibble | high) - 16 + 128
    const __m256i v = _mm256_add_epi8(_mm256_or_si256(Nibbles(x[b].qs), high), _mm256_set1_epi8(112));
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
  const __m256i c128 = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    __m256i yv[T], start[T];
    __m256 dy[T];
    for (int t = 0; t < T; ++t) {
      yv[t] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(y[t][b].qs));
      start[t] =
          _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), c128, yv[t]));
      dy[t] = _mm256_set1_ps(HalfToFloat(y[t][b].d));
    }
    for (int r = 0; r < R; ++r) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u[r] + 32 * b));
      const __m256 d = _mm256_broadcast_ss(dw[r] + b);
      for (int t = 0; t < T; ++t) {
        const __m256i isum = _mm256_dpbusd_epi32(start[t], w, yv[t]);
        acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, dy[t]), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) out[t * out_stride + r] = HsumFloat8(acc[r][t]);
  }
}

constexpr int kMaxRows = 4;
constexpr int kMaxTokens = 3;

using TileFn = void (*)(int64_t, const void* const*, const void*, size_t, float*, size_t);

template <int R>
TileFn TileForTokens(int t) {
  return t == 1 ? Q8Tile<R, 1> : t == 2 ? Q8Tile<R, 2> : Q8Tile<R, 3>;
}

void Q8GemmTile(int64_t n, const void* const* rows, int n_rows, const void* act, size_t act_stride,
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

GemmKernel Q8Gemm(void (*unpack)(const void*, int64_t, void*)) {
  return GemmKernel{UnpackedRowBytes, unpack, Q8GemmTile, kMaxRows, kMaxTokens};
}

}  // namespace

std::span<const KernelOverride> GemmQ8Avx512Kernels() {
  static const KernelOverride kernels[] = {
      {GgmlType::kQ8_0, nullptr, nullptr, nullptr, Q8Gemm(UnpackQ8_0)},
      {GgmlType::kQ4_0, nullptr, nullptr, nullptr, Q8Gemm(UnpackQ4_0)},
      {GgmlType::kQ5_0, nullptr, nullptr, nullptr, Q8Gemm(UnpackQ5_0)},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
