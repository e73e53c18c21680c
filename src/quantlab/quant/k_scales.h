// Packing of the K-quants' 6-bit sub-block scales, shared by quantizers and dequantizers. Internal.
#pragma once

#include <cstdint>

namespace quantlab::quant_internal {

// Q4_K / Q5_K: 8 scales and 8 mins of 6 bits in 12 bytes. Sub-blocks 0..3 keep their 6 bits in the low
// bits of bytes 0..3 (scale) and 4..7 (min); sub-blocks 4..7 keep their low 4 bits in the nibbles of
// bytes 8..11 and their top 2 bits in the top bits of bytes 0..3 (scale) and 4..7 (min).
inline void GetScaleMinK4(int j, const uint8_t* packed, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((packed[j + 4] >> 4) | ((packed[j] >> 6) << 4));
  }
}

// Writes sub-block j's scale and min (each < 64); sub-blocks must be written in order 0..7, because
// 4..7 OR their top bits into bytes that 0..3 wrote.
inline void SetScaleMinK4(int j, uint8_t scale, uint8_t min, uint8_t* packed) {
  if (j < 4) {
    packed[j] = scale;
    packed[j + 4] = min;
  } else {
    packed[j + 4] = static_cast<uint8_t>((scale & 0xF) | ((min & 0xF) << 4));
    packed[j - 4] |= static_cast<uint8_t>((scale >> 4) << 6);
    packed[j] |= static_cast<uint8_t>((min >> 4) << 6);
  }
}

// Q3_K: 16 scales of 6 bits (stored biased by 32) in 12 bytes. Low nibbles: bytes 0..7, scale j in
// the low nibble of byte j (j < 8) or the high nibble of byte j - 8; top 2 bits: byte 8 + j % 4, bit
// pair j / 4. `packed` must be zeroed before the first call.
inline void SetScaleQ3K(int j, int biased_scale, uint8_t* packed) {
  if (j < 8) {
    packed[j] = static_cast<uint8_t>(biased_scale & 0xF);
  } else {
    packed[j - 8] |= static_cast<uint8_t>((biased_scale & 0xF) << 4);
  }
  packed[j % 4 + 8] |= static_cast<uint8_t>((biased_scale >> 4) << (2 * (j / 4)));
}

// Sub-block j's signed scale (-32..31).
inline int8_t GetScaleQ3K(int j, const uint8_t* packed) {
  const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
  const int high = (packed[8 + j % 4] >> (2 * (j / 4))) & 3;
  return static_cast<int8_t>((low | (high << 4)) - 32);
}

}  // namespace quantlab::quant_internal
