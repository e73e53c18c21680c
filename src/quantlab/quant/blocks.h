// Block layouts of ggml's quantized formats, byte-identical to ggml's structs (ggml-common.h). A
// tensor row of n elements is n / kBlockSize consecutive blocks. `fp16_t` fields hold IEEE half bits.
#pragma once

#include <cstdint>

#include "quantlab/util/fp16.h"

namespace quantlab {

inline constexpr int kQK4_0 = 32;
inline constexpr int kQK4_1 = 32;
inline constexpr int kQK5_0 = 32;
inline constexpr int kQK5_1 = 32;
inline constexpr int kQK8_0 = 32;
inline constexpr int kQK8_1 = 32;
inline constexpr int kQK_K = 256;       // super-block size of the K-quants
inline constexpr int kKScaleSize = 12;  // packed 6-bit scales/mins of Q4_K and Q5_K

// 4.5 bits/weight: x = d * (q - 8), q in [0, 15]; low nibbles hold elements 0..15, high 16..31.
struct BlockQ4_0 {
  fp16_t d;
  uint8_t qs[kQK4_0 / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// 5 bits/weight: x = d * q + m, q in [0, 15].
struct BlockQ4_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qs[kQK4_1 / 2];
};
static_assert(sizeof(BlockQ4_1) == 20);

// 5.5 bits/weight: x = d * (q - 16), q in [0, 31]; qh holds the fifth bit of each element.
struct BlockQ5_0 {
  fp16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK5_0 / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// 6 bits/weight: x = d * q + m, q in [0, 31].
struct BlockQ5_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK5_1 / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// 8.5 bits/weight: x = d * q, q in [-127, 127].
struct BlockQ8_0 {
  fp16_t d;
  int8_t qs[kQK8_0];
};
static_assert(sizeof(BlockQ8_0) == 34);

// 4.5 bits/weight, non-linear: x = d * kIq4nlValues[q], q in [0, 15]; nibbles laid out as Q4_0's. The
// fallback llama-quantize writes for Q2_K/Q3_K tensors whose rows are not a multiple of 256.
inline constexpr int kQK4_NL = 32;
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
struct BlockIQ4_NL {
  fp16_t d;
  uint8_t qs[kQK4_NL / 2];
};
static_assert(sizeof(BlockIQ4_NL) == 18);

// Index of the kIq4nlValues level nearest to v (on an exact tie the upper one, by ggml's comparison order
// in best_index_int8). Shared by the IQ4_NL and IQ4_XS quantizers.
inline int NearestIq4nlLevel(float v) {
  const int8_t* values = kIq4nlValues;
  if (v <= values[0]) return 0;
  if (v >= values[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (v < values[mid]) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return v - values[hi - 1] < values[hi] - v ? hi - 1 : hi;
}

// Activation format for Q4_1/Q5_1 dots: as Q8_0 plus s = d * sum(qs).
struct BlockQ8_1 {
  fp16_t d;
  fp16_t s;
  int8_t qs[kQK8_1];
};
static_assert(sizeof(BlockQ8_1) == 36);

// 2.625 bits/weight: 16 sub-blocks of 16; 4-bit scale and 4-bit min per sub-block, x = d*sc*q - dmin*m.
struct BlockQ2_K {
  uint8_t scales[kQK_K / 16];
  uint8_t qs[kQK_K / 4];
  fp16_t d;
  fp16_t dmin;
};
static_assert(sizeof(BlockQ2_K) == 84);

// 3.4375 bits/weight: 16 sub-blocks of 16, 6-bit scales; low 2 bits in qs, high bit in hmask.
struct BlockQ3_K {
  uint8_t hmask[kQK_K / 8];
  uint8_t qs[kQK_K / 4];
  uint8_t scales[12];
  fp16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 4.5 bits/weight: 8 sub-blocks of 32, 6-bit scales and mins packed in 12 bytes; x = d*sc*q - dmin*m.
struct BlockQ4_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// 5.5 bits/weight: as Q4_K with a fifth bit per element in qh.
struct BlockQ5_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[kKScaleSize];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 6.5625 bits/weight: 16 sub-blocks of 16, 8-bit scales; x = d * sc * (q - 32), q in [0, 63].
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  fp16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// 4.25 bits/weight, non-linear: 256-element super-blocks of eight 32-element blocks,
// x = d * (ls - 32) * kIq4nlValues[q]. Block ib's 6-bit scale ls has its low 4 bits in nibble ib % 2 of
// scales_l[ib / 2] and its high 2 bits at bits 2 * ib of scales_h; each block's 16 bytes of qs hold
// elements j (low nibble) and j + 16 (high nibble), as IQ4_NL's. Dotted with Q8_K activations.
struct BlockIQ4_XS {
  fp16_t d;
  uint16_t scales_h;
  uint8_t scales_l[kQK_K / 64];
  uint8_t qs[kQK_K / 2];
};
static_assert(sizeof(BlockIQ4_XS) == 136);

// 3.0625 bits/weight, on a 256-point lattice of 4-element groups (iq3_grids.h). qs holds 64 grid
// indices (one per 4 elements), then 8 words, one per 32-element block: bits 0..27 the 7-bit sign codes
// of its four 8-element groups, bits 28..31 the block scale ls; x = d * (0.5 + ls) * 0.5 * grid value *
// sign.
struct BlockIQ3_XXS {
  fp16_t d;
  uint8_t qs[3 * kQK_K / 8];
};
static_assert(sizeof(BlockIQ3_XXS) == 98);

// 3.4375 bits/weight, on a 512-point lattice of 4-element groups (iq3_grids.h): the low 8 bits of each
// group's grid index in qs, the ninth bit of group g at bit g % 8 of qh[g / 8], one sign bit per element,
// and a 4-bit scale per 32-element block (block ib in nibble ib % 2 of scales[ib / 2]);
// x = d * (1 + 2 ls) * grid value * sign.
struct BlockIQ3_S {
  fp16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t signs[kQK_K / 8];
  uint8_t scales[kQK_K / 64];
};
static_assert(sizeof(BlockIQ3_S) == 110);

// 2.0625 bits/weight, on a 256-point lattice of 8-element groups (iq2_grids.h). Per 32-element block ib,
// qs[4 ib .. 4 ib + 3] as two little-endian words: the first holds the four groups' grid indices (one byte
// each), the second bits 0..27 the groups' 7-bit sign codes (the eighth sign is the parity) and bits
// 28..31 the block scale ls; x = d * (0.5 + ls) * 0.25 * grid value * sign.
struct BlockIQ2_XXS {
  fp16_t d;
  uint16_t qs[kQK_K / 8];
};
static_assert(sizeof(BlockIQ2_XXS) == 66);

// 2.3125 bits/weight, on a 512-point lattice of 8-element groups (iq2_grids.h): one 16-bit entry per
// group, grid index | 7-bit sign code << 9 (the eighth sign is the parity), and a 4-bit scale per 16
// elements (16-block ib in nibble ib % 2 of scales[ib / 2]); x = d * (0.5 + ls) * 0.25 * grid value * sign.
struct BlockIQ2_XS {
  fp16_t d;
  uint16_t qs[kQK_K / 8];
  uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ2_XS) == 74);

// 2.5625 bits/weight, on a 1024-point lattice of 8-element groups (iq2_grids.h): qs holds the low 8 bits
// of the 32 groups' grid indices, then one sign byte per group; the two high bits of group g are bits
// 2 (g % 4) of qh[g / 4]; a 4-bit scale per 16 elements (16-block ib in nibble ib % 2 of scales[ib / 2]);
// x = d * (0.5 + ls) * 0.25 * grid value * sign.
struct BlockIQ2_S {
  fp16_t d;
  uint8_t qs[kQK_K / 4];
  uint8_t qh[kQK_K / 32];
  uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ2_S) == 82);

// 1.5625 bits/weight, on a 2048-point lattice of 8-element groups with levels -1, 0, 1 (iq1_grids.h):
// qs holds the low 8 bits of the 32 groups' grid indices; qh[ib] for 32-element block ib holds the three
// high bits of its group l at bits 3 l, a 3-bit scale ls at bits 12..14 and the shift's sign at bit 15;
// x = d * (2 ls + 1) * (grid value +- 0.125).
struct BlockIQ1_S {
  fp16_t d;
  uint8_t qs[kQK_K / 8];
  uint16_t qh[kQK_K / 32];
};
static_assert(sizeof(BlockIQ1_S) == 50);

// 1.75 bits/weight, the same lattice: qh[g / 2] holds group g's three high index bits at bits 4 (g % 2)
// and its shift's sign at bit 4 (g % 2) + 3; 3-bit scales per 16 elements (16-block ib at bits 3 (ib % 4)
// of the ib / 4-th uint16 of scales); the fp16 super-block scale d is split over the top nibbles of those
// four uint16s (bits 0..3 of d in the first). x = d * (2 ls + 1) * (grid value +- 0.125).
struct BlockIQ1_M {
  uint8_t qs[kQK_K / 8];
  uint8_t qh[kQK_K / 16];
  uint8_t scales[kQK_K / 32];
};
static_assert(sizeof(BlockIQ1_M) == 56);

// Reading IQ1_S's and IQ1_M's packed scales. In an unnamed namespace: the SIMD kernel files include this
// with wider ISA flags, and an ordinary inline function compiled there could be the copy the linker
// keeps for the scalar files.
namespace {
// IQ1_S: the odd scale 2 ls + 1 of 32-element block ib (bits 12..14 of its qh).
inline int Iq1SBlockScale(const BlockIQ1_S& b, int ib) { return 2 * ((b.qh[ib] >> 12) & 7) + 1; }
// IQ1_M: the four 16-bit scale words (byte-copied: the struct holds them as bytes).
inline void Iq1MScaleWords(const BlockIQ1_M& b, uint16_t (&words)[4]) {
  for (int i = 0; i < 4; ++i) words[i] = static_cast<uint16_t>(b.scales[2 * i] | (b.scales[2 * i + 1] << 8));
}
// The fp16 super-block scale d, from the words' top nibbles.
inline fp16_t Iq1MSuperScale(const uint16_t (&w)[4]) {
  return static_cast<fp16_t>((w[0] >> 12) | ((w[1] >> 8) & 0x00f0) | ((w[2] >> 4) & 0x0f00) |
                             (w[3] & 0xf000));
}
// The odd scale 2 ls + 1 of 16-element block ib.
inline int Iq1MBlockScale(const uint16_t (&w)[4], int ib) {
  return 2 * ((w[ib / 4] >> 3 * (ib % 4)) & 7) + 1;
}
}  // namespace

// Activation format for K-quant dots: float scale, 8-bit values, and sums of each group of 16.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace quantlab
