// IEEE half and bfloat16 conversions, bit-compatible with ggml's (round to nearest even; NaN kept NaN).
#pragma once

#include <bit>
#include <cstdint>

namespace quantlab {

using fp16_t = uint16_t;  // IEEE 754 binary16 bits
using bf16_t = uint16_t;  // bfloat16 bits

// binary16 -> float, exact.
inline float Fp16ToFp32(fp16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;
  // Normalised values: shift the exponent/mantissa into place and rescale by 2^-112.
  constexpr uint32_t kExpOffset = 0xE0u << 23;
  const float exp_scale = std::bit_cast<float>(0x7800000u);
  const float normalized = std::bit_cast<float>((two_w >> 4) + kExpOffset) * exp_scale;
  // Denormals: use the magic-number trick (0.5 in float with the mantissa as fraction bits).
  constexpr uint32_t kMagicMask = 126u << 23;
  constexpr float kMagicBias = 0.5f;
  const float denormalized = std::bit_cast<float>((two_w >> 17) | kMagicMask) - kMagicBias;
  constexpr uint32_t kDenormCutoff = 1u << 27;
  const uint32_t result =
      sign | (two_w < kDenormCutoff ? std::bit_cast<uint32_t>(denormalized) : std::bit_cast<uint32_t>(normalized));
  return std::bit_cast<float>(result);
}

// float -> binary16, round to nearest even, overflow to infinity, NaN to NaN (same bits as ggml's
// scalar GGML_FP32_TO_FP16 and as the F16C instruction).
inline fp16_t Fp32ToFp16(float f) {
  const float scale_to_inf = std::bit_cast<float>(0x77800000u);
  const float scale_to_zero = std::bit_cast<float>(0x08800000u);
  float base = (f < 0 ? -f : f) * scale_to_inf * scale_to_zero;
  const uint32_t w = std::bit_cast<uint32_t>(f);
  const uint32_t shl1_w = w + w;
  const uint32_t sign = w & 0x80000000u;
  uint32_t bias = shl1_w & 0xFF000000u;
  if (bias < 0x71000000u) bias = 0x71000000u;
  base = std::bit_cast<float>((bias >> 1) + 0x07800000u) + base;
  const uint32_t bits = std::bit_cast<uint32_t>(base);
  const uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
  const uint32_t mantissa_bits = bits & 0x00000FFFu;
  const uint32_t nonsign = exp_bits + mantissa_bits;
  return static_cast<fp16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
}

inline float Bf16ToFp32(bf16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// float -> bfloat16, round to nearest even; NaN becomes a quiet NaN (as ggml does).
inline bf16_t Fp32ToBf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<bf16_t>((u >> 16) | 64);
  return static_cast<bf16_t>((u + (0x7fffu + ((u >> 16) & 1))) >> 16);
}

}  // namespace quantlab
