#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

// Block formats back to floats (ggml's dequantize_row_*), and the plain float conversions.

#include <cstring>

#include "quantlab/quant/blocks.h"
#include "quantlab/quant/formats.h"
#include "quantlab/quant/k_scales.h"
#include "quantlab/util/fp16.h"

namespace quantlab::quant_internal {

void QuantizeF32(const float* x, void* y, int64_t n) { std::memcpy(y, x, n * sizeof(float)); }

#if defined(QUANTLAB_X86)
void QuantizeF16Avx2(const float* x, uint16_t* y, int64_t n);    // f16_avx2.cc
void DequantizeF16Avx2(const uint16_t* x, float* y, int64_t n);  // f16_avx2.cc

namespace {
bool HaveAvx2F16c() {
  static const bool have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
  return have;
}
}  // namespace
#endif

void QuantizeF16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<fp16_t*>(y);
#if defined(QUANTLAB_X86)
  // Same bits as the scalar loop, about 5x faster.
  if (HaveAvx2F16c()) return QuantizeF16Avx2(x, out, n);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToFp16(x[i]);
}

void QuantizeBF16(const float* x, void* y, int64_t n) {
  auto* out = static_cast<bf16_t*>(y);
  for (int64_t i = 0; i < n; ++i) out[i] = Fp32ToBf16(x[i]);
}

void DequantizeF32(const void* x, float* y, int64_t n) { std::memcpy(y, x, n * sizeof(float)); }

void DequantizeF16(const void* x, float* y, int64_t n) {
  const auto* in = static_cast<const fp16_t*>(x);
#if defined(QUANTLAB_X86)
  // Same bits as the scalar loop (every fp16 value is exact in float).
  if (HaveAvx2F16c()) return DequantizeF16Avx2(in, y, n);
#endif
  for (int64_t i = 0; i < n; ++i) y[i] = Fp16ToFp32(in[i]);
}

void DequantizeBF16(const void* x, float* y, int64_t n) {
  const auto* in = static_cast<const bf16_t*>(x);
  for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToFp32(in[i]);
}

void DequantizeQ4_0(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_0*>(x);
  for (int64_t i = 0; i < n / kQK4_0; ++i, y += kQK4_0) {
    const float d = Fp16ToFp32(blocks[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = ((blocks[i].qs[j] & 0x0F) - 8) * d;
      y[j + 16] = ((blocks[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void DequantizeQ4_1(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_1*>(x);
  for (int64_t i = 0; i < n / kQK4_1; ++i, y += kQK4_1) {
    const float d = Fp16ToFp32(blocks[i].d);
    const float m = Fp16ToFp32(blocks[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = (blocks[i].qs[j] & 0x0F) * d + m;
      y[j + 16] = (blocks[i].qs[j] >> 4) * d + m;
    }
  }
}

namespace {
// Fifth bits of elements j and j + 16 of a Q5 block, as 0 or 16.
inline int HighBitLo(uint32_t qh, int j) { return ((qh >> j) << 4) & 0x10; }
inline int HighBitHi(uint32_t qh, int j) { return (qh >> (j + 12)) & 0x10; }
}  // namespace

void DequantizeQ5_0(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_0*>(x);
  for (int64_t i = 0; i < n / kQK5_0; ++i, y += kQK5_0) {
    const float d = Fp16ToFp32(blocks[i].d);
    uint32_t qh;
    std::memcpy(&qh, blocks[i].qh, sizeof(qh));
    for (int j = 0; j < 16; ++j) {
      y[j] = (((blocks[i].qs[j] & 0x0F) | HighBitLo(qh, j)) - 16) * d;
      y[j + 16] = (((blocks[i].qs[j] >> 4) | HighBitHi(qh, j)) - 16) * d;
    }
  }
}

void DequantizeQ5_1(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_1*>(x);
  for (int64_t i = 0; i < n / kQK5_1; ++i, y += kQK5_1) {
    const float d = Fp16ToFp32(blocks[i].d);
    const float m = Fp16ToFp32(blocks[i].m);
    uint32_t qh;
    std::memcpy(&qh, blocks[i].qh, sizeof(qh));
    for (int j = 0; j < 16; ++j) {
      y[j] = ((blocks[i].qs[j] & 0x0F) | HighBitLo(qh, j)) * d + m;
      y[j + 16] = ((blocks[i].qs[j] >> 4) | HighBitHi(qh, j)) * d + m;
    }
  }
}

void DequantizeQ8_0(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_0*>(x);
  for (int64_t i = 0; i < n / kQK8_0; ++i, y += kQK8_0) {
    const float d = Fp16ToFp32(blocks[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = blocks[i].qs[j] * d;
  }
}

void DequantizeQ8_1(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_1*>(x);
  for (int64_t i = 0; i < n / kQK8_1; ++i, y += kQK8_1) {
    const float d = Fp16ToFp32(blocks[i].d);
    for (int j = 0; j < kQK8_1; ++j) y[j] = blocks[i].qs[j] * d;
  }
}

void DequantizeQ2_K(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ2_K*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(blocks[i].d);
    const float dmin = Fp16ToFp32(blocks[i].dmin);
    const uint8_t* q = blocks[i].qs;
    const uint8_t* sc = blocks[i].scales;
    // Output order: per 128 elements, 4 bit-pair planes of 32 bytes, each plane two 16-element
    // sub-blocks (bytes 0..15, then 16..31).
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part, ++sc) {
          const float dl = d * (*sc & 0xF);
          const float ml = dmin * (*sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * ((q[16 * part + l] >> shift) & 3) - ml;
        }
      }
    }
  }
}

void DequantizeQ3_K(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ3_K*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d_all = Fp16ToFp32(blocks[i].d);
    const uint8_t* q = blocks[i].qs;
    const uint8_t* hm = blocks[i].hmask;
    int sub = 0;
    uint8_t mask = 1;
    for (int half = 0; half < 2; ++half, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, mask = static_cast<uint8_t>(mask << 1)) {
        for (int part = 0; part < 2; ++part, ++sub) {
          const float dl = d_all * GetScaleQ3K(sub, blocks[i].scales);
          for (int l = 16 * part; l < 16 * part + 16; ++l) {
            // The stored level is (low 2 bits) + 4 * (high bit); the signed value subtracts 4 when the
            // high bit is clear.
            *y++ = dl * (((q[l] >> shift) & 3) - ((hm[l] & mask) ? 0 : 4));
          }
        }
      }
    }
  }
}

void DequantizeQ4_K(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ4_K*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(blocks[i].d);
    const float dmin = Fp16ToFp32(blocks[i].dmin);
    const uint8_t* q = blocks[i].qs;
    for (int sub = 0; sub < 8; sub += 2, q += 32) {
      uint8_t sc, m;
      GetScaleMinK4(sub, blocks[i].scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = dmin * m;
      GetScaleMinK4(sub + 1, blocks[i].scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

void DequantizeQ5_K(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ5_K*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(blocks[i].d);
    const float dmin = Fp16ToFp32(blocks[i].dmin);
    const uint8_t* ql = blocks[i].qs;
    const uint8_t* qh = blocks[i].qh;
    uint8_t u1 = 1, u2 = 2;
    for (int sub = 0; sub < 8; sub += 2, ql += 32) {
      uint8_t sc, m;
      GetScaleMinK4(sub, blocks[i].scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = dmin * m;
      GetScaleMinK4(sub + 1, blocks[i].scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = dmin * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

void DequantizeQ6_K(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ6_K*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = Fp16ToFp32(blocks[i].d);
    const uint8_t* ql = blocks[i].ql;
    const uint8_t* qh = blocks[i].qh;
    const int8_t* sc = blocks[i].scales;
    for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

void DequantizeQ8_K(const void* x, float* y, int64_t n) {
  const auto* blocks = static_cast<const BlockQ8_K*>(x);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int j = 0; j < kQK_K; ++j) *y++ = blocks[i].d * blocks[i].qs[j];
  }
}

}  // namespace quantlab::quant_internal
