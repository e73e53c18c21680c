// The rounding helpers the quantizers share, against the library functions they stand in for.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>

#include "quantlab/quant/fp_contract.h"
#include "quantlab/quant/search.h"

namespace quantlab::quant_internal {
namespace {

// Floats of every magnitude: each sign/exponent/top-mantissa combination with low bits around the
// places where rounding to an integer changes (fractions near .5 for small magnitudes).
template <typename Fn>
void ForSampleFloats(Fn fn) {
  const uint32_t lows[] = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x3FFF, 0x4000, 0xC000, 0x1234};
  for (uint32_t high = 0; high < 65536; ++high) {
    for (uint32_t low : lows) fn(std::bit_cast<float>((high << 16) | low));
  }
  for (int k = -100000; k <= 100000; ++k) {  // exact ties and their neighbours
    const float tie = static_cast<float>(k) + 0.5f;
    fn(tie);
    fn(std::nextafter(tie, 0.0f));
    fn(std::nextafter(tie, 1e9f));
    fn(-tie);
  }
}

TEST(Rounding, RoundHalfAwayFromZeroEqualsRoundf) {
  int64_t checked = 0;
  ForSampleFloats([&](float v) {
    if (!std::isfinite(v) || std::fabs(v) >= 2147483520.0f) return;  // (int)roundf would overflow
    ASSERT_EQ(RoundHalfAwayFromZero(v), static_cast<int32_t>(std::round(v))) << "v = " << v;
    ++checked;
  });
  EXPECT_GT(checked, 500000);
  EXPECT_EQ(RoundHalfAwayFromZero(2.5f), 3);
  EXPECT_EQ(RoundHalfAwayFromZero(-2.5f), -3);
  EXPECT_EQ(RoundHalfAwayFromZero(0.49999997f), 0);
}

TEST(Rounding, NearestIntRoundsHalfToEvenWithinItsRange) {
  int64_t checked = 0;
  ForSampleFloats([&](float v) {
    if (!(std::fabs(v) <= 4194303.0f)) return;  // ggml's stated domain
    ASSERT_EQ(NearestInt(v), static_cast<int>(std::nearbyint(v))) << "v = " << v;
    ++checked;
  });
  EXPECT_GT(checked, 500000);
  EXPECT_EQ(NearestInt(2.5f), 2);
  EXPECT_EQ(NearestInt(3.5f), 4);
  EXPECT_EQ(NearestInt(-2.5f), -2);
}

}  // namespace
}  // namespace quantlab::quant_internal
