// The adaptive-precision stopping rule on constructed per-chunk data.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quantlab/lab/precision.h"

namespace quantlab::lab {
namespace {

// Per-chunk base NLL varies a lot (texts differ); the format adds `shift` plus a small paired noise.
struct Chunks {
  std::vector<double> base, nll, kld;
};
Chunks Make(int n, double shift, double pair_noise, double kld_mean, double kld_noise) {
  Chunks c;
  for (int i = 0; i < n; ++i) {
    const double wobble = std::sin(1.7 * i + 0.3);  // deterministic, mean ~0
    c.base.push_back(2.0 + 0.5 * std::cos(0.9 * i));
    c.nll.push_back(c.base.back() + shift + pair_noise * wobble);
    c.kld.push_back(kld_mean + kld_noise * std::cos(2.3 * i + 1));
  }
  return c;
}

TEST(PrecisionTest, StopsOnceTheIncreaseAndTheKldAreKnownWellEnough) {
  // A 3% increase (0.0296 nats) with little paired noise: ranked after a handful of chunks.
  const Chunks c = Make(40, std::log(1.03), 0.002, 0.02, 0.004);
  const Precision p = AssessPrecision(c.base, c.nll, c.kld);
  EXPECT_TRUE(p.enough);
  EXPECT_NEAR(p.increase_pct, 3.0, 0.1);
  EXPECT_LE(p.ci_half_pp, 0.3);
  EXPECT_LE(p.kld_rel_stderr, 0.05);
  EXPECT_EQ(p.chunks, 40);
}

TEST(PrecisionTest, NeverStopsBeforeTheMinimum) {
  const Chunks c = Make(40, std::log(1.03), 0.0, 0.02, 0.0);  // exact from the second chunk on
  for (int n = 1; n < 10; ++n) {
    const std::span<const double> base(c.base), nll(c.nll), kld(c.kld);
    EXPECT_FALSE(AssessPrecision(base.first(n), nll.first(n), kld.first(n)).enough) << n;
  }
  const std::span<const double> base(c.base), nll(c.nll), kld(c.kld);
  EXPECT_TRUE(AssessPrecision(base.first(10), nll.first(10), kld.first(10)).enough);
  EXPECT_FALSE(AssessPrecision(base.first(10), nll.first(10), kld.first(10), {.min_chunks = 20}).enough);
}

TEST(PrecisionTest, KeepsGoingWhileTheIncreaseIsUncertain) {
  // A 1% increase under paired noise of 0.03 nats per chunk: 10% of 1% = 0.1 points is far from reached.
  const Chunks c = Make(20, std::log(1.01), 0.03, 0.02, 0.001);
  const Precision p = AssessPrecision(c.base, c.nll, c.kld);
  EXPECT_FALSE(p.enough);
  EXPECT_GT(p.ci_half_pp, 0.1);
  EXPECT_LE(p.kld_rel_stderr, 0.05);  // the KLD alone would have been enough
}

TEST(PrecisionTest, KeepsGoingWhileTheKldIsUncertain) {
  // Increase settled, but the KLD swings by its own size from chunk to chunk.
  const Chunks c = Make(12, std::log(1.05), 0.0005, 0.01, 0.01);
  const Precision p = AssessPrecision(c.base, c.nll, c.kld);
  EXPECT_LE(p.ci_half_pp, 0.5);
  EXPECT_GT(p.kld_rel_stderr, 0.05);
  EXPECT_FALSE(p.enough);
}

TEST(PrecisionTest, ATinyIncreaseNeedsOnlyTheAbsoluteFloor) {
  // A 0.01% increase: 10% of it is 0.001 points, the 0.05-point floor governs.
  const Chunks c = Make(30, std::log(1.0001), 0.0001, 0.0005, 0.00001);
  const Precision p = AssessPrecision(c.base, c.nll, c.kld);
  EXPECT_LT(p.ci_half_pp, 0.05);
  EXPECT_TRUE(p.enough);
}

TEST(PrecisionTest, AFormatThatChangesPredictionsButNotPerplexityIsScaledByItsKld) {
  // A model that does not predict the text (random weights): the format's measured increase is noise
  // around zero, yet its mean KLD of 0.1 says it changes the predictions by ~10.5% in perplexity terms.
  // 10% of the noisy increase would be an unreachable target; 10% of the KLD-implied 10.5% is reached.
  const Chunks c = Make(40, 0.0, 0.03, 0.1, 0.005);
  const Precision p = AssessPrecision(c.base, c.nll, c.kld);
  EXPECT_LT(std::fabs(p.increase_pct), 0.5);
  EXPECT_NEAR(p.ci_half_allowed_pp, 100 * (std::exp(0.1) - 1) * 0.10, 0.01);
  EXPECT_LE(p.ci_half_pp, p.ci_half_allowed_pp);
  EXPECT_TRUE(p.enough);
  // The same chunks judged on the increase alone (no KLD given): still short of the 0.05-point floor.
  EXPECT_FALSE(AssessPrecision(c.base, c.nll, {}).enough);
}

TEST(PrecisionTest, TheMeasuredIncreaseGovernsWhenItExceedsTheKldImpliedOne) {
  // A 5% increase with a KLD of 0.01 (1% implied): the target is 10% of 5%.
  const Chunks c = Make(20, std::log(1.05), 0.001, 0.01, 0.0001);
  const Precision p = AssessPrecision(c.base, c.nll, c.kld);
  EXPECT_NEAR(p.ci_half_allowed_pp, 0.5, 0.01);
  EXPECT_TRUE(p.enough);
}

}  // namespace
}  // namespace quantlab::lab
