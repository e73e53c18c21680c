// util/fp16.h against the hardware (F16C, round to nearest even) and against ggml's scalar conversions,
// bit for bit. ggml's CPU-independent code (ggml-base: the fp16 table, ggml_fp32_to_fp16_row, every
// quantizer's fp16 scale) uses the scalar formulas, which equal F16C except for one case: float -> half
// of a NaN gives 0x7E00 (plus sign) where F16C keeps the payload. That case is checked against ggml's
// rule.
#include "quantlab/util/fp16.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QUANTLAB_TEST_F16C 1
#endif

namespace quantlab {
namespace {

bool IsNanBits(uint32_t f) { return (f & 0x7fffffffu) > 0x7f800000u; }
bool IsHalfNan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0; }

#ifdef QUANTLAB_TEST_F16C
__attribute__((target("f16c"))) uint16_t HardwareFp32ToFp16(float f) { return _cvtss_sh(f, 0); }
__attribute__((target("f16c"))) float HardwareFp16ToFp32(uint16_t h) { return _cvtsh_ss(h); }
bool HaveF16c() { return __builtin_cpu_supports("f16c"); }
#else
uint16_t HardwareFp32ToFp16(float) { return 0; }
float HardwareFp16ToFp32(uint16_t) { return 0; }
bool HaveF16c() { return false; }
#endif

// Lower 16 bits of a float that straddle fp16 rounding boundaries (13 dropped mantissa bits: half-way is
// 0x1000), plus a few arbitrary ones.
const uint32_t kLowPatterns[] = {0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000,
                                 0x2001, 0x3000, 0x5000, 0x6FFF, 0x7000, 0x7FFF, 0x8000,
                                 0x9000, 0xF000, 0xFFFF, 0x1234, 0xABCD, 0x4321};

TEST(Fp16, HalfToFloatAllValuesMatchHardware) {
  if (!HaveF16c()) GTEST_SKIP() << "no F16C on this CPU";
  // All 65536 halves, NaNs included (the scalar formula's final multiply quiets a signalling NaN just as
  // the instruction does, keeping the payload).
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint32_t ours = std::bit_cast<uint32_t>(Fp16ToFp32(static_cast<uint16_t>(h)));
    const uint32_t hw = std::bit_cast<uint32_t>(HardwareFp16ToFp32(static_cast<uint16_t>(h)));
    ASSERT_EQ(ours, hw) << "half 0x" << std::hex << h;
    if (IsHalfNan(static_cast<uint16_t>(h))) {
      EXPECT_EQ(ours, ((h & 0x8000u) << 16) | 0x7fc00000u | ((h & 0x3ffu) << 13)) << std::hex << h;
    }
  }
}

TEST(Fp16, FloatToHalfMatchesHardwareOnBoundaryPatterns) {
  if (!HaveF16c()) GTEST_SKIP() << "no F16C on this CPU";
  // Every sign/exponent/top-mantissa combination with low bits at and around each rounding boundary:
  // covers normals, fp16 subnormals, underflow to zero, overflow to infinity and ties to even.
  int64_t checked = 0;
  for (uint32_t high = 0; high < 65536; ++high) {
    for (uint32_t low : kLowPatterns) {
      const uint32_t bits = (high << 16) | low;
      const float f = std::bit_cast<float>(bits);
      const uint16_t ours = Fp32ToFp16(f);
      if (IsNanBits(bits)) {
        ASSERT_EQ(ours, static_cast<uint16_t>(((bits >> 16) & 0x8000u) | 0x7e00u)) << std::hex << bits;
        continue;
      }
      ASSERT_EQ(ours, HardwareFp32ToFp16(f)) << "float bits 0x" << std::hex << bits;
      ++checked;
    }
  }
  EXPECT_GT(checked, 1000000);
}

TEST(Fp16, FloatToHalfRandomMatchesHardware) {
  if (!HaveF16c()) GTEST_SKIP() << "no F16C on this CPU";
  uint64_t state = 0x1234567;
  for (int i = 0; i < 2000000; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const uint32_t bits = static_cast<uint32_t>(state);
    if (IsNanBits(bits)) continue;
    const float f = std::bit_cast<float>(bits);
    ASSERT_EQ(Fp32ToFp16(f), HardwareFp32ToFp16(f)) << "float bits 0x" << std::hex << bits;
  }
}

// Dev-time: every one of the 2^32 floats (a minute or so). Enabled with QUANTLAB_FP16_EXHAUSTIVE=1.
TEST(Fp16, FloatToHalfExhaustive) {
  if (!std::getenv("QUANTLAB_FP16_EXHAUSTIVE")) GTEST_SKIP() << "set QUANTLAB_FP16_EXHAUSTIVE=1 to run";
  if (!HaveF16c()) GTEST_SKIP() << "no F16C on this CPU";
  uint64_t mismatches = 0;
  for (uint64_t b = 0; b <= 0xffffffffull; ++b) {
    const auto bits = static_cast<uint32_t>(b);
    if (IsNanBits(bits)) continue;
    const float f = std::bit_cast<float>(bits);
    mismatches += Fp32ToFp16(f) != HardwareFp32ToFp16(f);
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST(Fp16, KnownValues) {
  EXPECT_EQ(Fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3c00);
  EXPECT_EQ(Fp32ToFp16(-2.0f), 0xc000);
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7bff);  // largest half
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7c00);  // rounds up to infinity
  EXPECT_EQ(Fp32ToFp16(65519.0f), 0x7bff);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (zero)
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::quiet_NaN()), 0x7e00);
  EXPECT_EQ(Fp16ToFp32(0x3c00), 1.0f);
  EXPECT_EQ(Fp16ToFp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(Fp16ToFp32(0xfbff), -65504.0f);
  // Round trip of every finite half.
  for (uint32_t h = 0; h < 65536; ++h) {
    if ((h & 0x7c00u) == 0x7c00u) continue;
    ASSERT_EQ(Fp32ToFp16(Fp16ToFp32(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
}

// bfloat16: round to nearest even on the dropped 16 bits; NaN -> quiet NaN keeping the top bits (ggml's
// ggml_compute_fp32_to_bf16). Checked against an independent formulation.
uint16_t ReferenceBf16(uint32_t bits) {
  if (IsNanBits(bits)) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t upper = bits >> 16;
  const uint32_t lower = bits & 0xffffu;
  if (lower > 0x8000u || (lower == 0x8000u && (upper & 1u))) return static_cast<uint16_t>(upper + 1);
  return static_cast<uint16_t>(upper);
}

TEST(Bf16, MatchesRoundToNearestEven) {
  for (uint32_t high = 0; high < 65536; ++high) {
    for (uint32_t low : {0x0000u, 0x0001u, 0x7FFFu, 0x8000u, 0x8001u, 0xFFFFu, 0x1234u}) {
      const uint32_t bits = (high << 16) | low;
      ASSERT_EQ(Fp32ToBf16(std::bit_cast<float>(bits)), ReferenceBf16(bits)) << std::hex << bits;
    }
    const uint16_t h = static_cast<uint16_t>(high);
    ASSERT_EQ(std::bit_cast<uint32_t>(Bf16ToFp32(h)), high << 16);
  }
}

}  // namespace
}  // namespace quantlab
