#include "quantlab/quant/distortion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "quant/golden_inputs.h"
#include "quantlab/quant/quantize.h"

namespace quantlab {
namespace {

TEST(Distortion, HandComputedValues) {
  const std::vector<float> a = {1, 2, 3, 4};
  const std::vector<float> b = {1, 2, 3, 2};  // one error of 2
  const Distortion d = MeasureDistortion(a, b);
  EXPECT_EQ(d.count, 4);
  EXPECT_DOUBLE_EQ(d.rmse, 1.0);  // sqrt(4 / 4)
  EXPECT_DOUBLE_EQ(d.max_abs_error, 2.0);
  EXPECT_NEAR(d.cosine, (1 + 4 + 9 + 8) / (std::sqrt(30.0) * std::sqrt(18.0)), 1e-12);
  EXPECT_NEAR(d.snr_db, 10 * std::log10(30.0 / 4.0), 1e-12);
}

TEST(Distortion, EdgeCases) {
  const std::vector<float> zeros(8, 0.0f), ones(8, 1.0f);
  Distortion exact = MeasureDistortion(ones, ones);
  EXPECT_EQ(exact.rmse, 0);
  EXPECT_DOUBLE_EQ(exact.cosine, 1.0);
  EXPECT_EQ(exact.snr_db, std::numeric_limits<double>::infinity());
  Distortion both_zero = MeasureDistortion(zeros, zeros);
  EXPECT_EQ(both_zero.cosine, 1);
  Distortion lost = MeasureDistortion(ones, zeros);
  EXPECT_EQ(lost.cosine, 0);
  EXPECT_DOUBLE_EQ(lost.snr_db, 0.0);
  Distortion from_zero = MeasureDistortion(zeros, ones);
  EXPECT_EQ(from_zero.snr_db, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(DistortionAccumulator().Summary().count, 0);
}

TEST(Distortion, MergeEqualsSinglePass) {
  golden::Rng rng(1);
  std::vector<float> a(1000), b(1000);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = rng.Gaussian();
    b[i] = a[i] + 0.1f * rng.Symmetric();
  }
  DistortionAccumulator first, second;
  first.Add(std::span(a).subspan(0, 300), std::span(b).subspan(0, 300));
  second.Add(std::span(a).subspan(300), std::span(b).subspan(300));
  first.Merge(second);
  const Distortion merged = first.Summary();
  const Distortion whole = MeasureDistortion(a, b);
  EXPECT_EQ(merged.count, whole.count);
  // Equal up to where the short float partial sums start (see DistortionAccumulator::Add).
  EXPECT_NEAR(merged.rmse, whole.rmse, 1e-8 * whole.rmse);
  EXPECT_EQ(merged.max_abs_error, whole.max_abs_error);
  EXPECT_NEAR(merged.cosine, whole.cosine, 1e-8);
}

TEST(Distortion, RoundTripOrdersFormatsByBits) {
  golden::Rng rng(2);
  std::vector<float> w(4 * 512);
  for (auto& v : w) v = 0.02f * rng.Gaussian();
  const double q8 = MeasureRoundTrip(GgmlType::kQ8_0, w, 512, nullptr).rmse;
  const double q6 = MeasureRoundTrip(GgmlType::kQ6_K, w, 512, nullptr).rmse;
  const double q4 = MeasureRoundTrip(GgmlType::kQ4_K, w, 512, nullptr).rmse;
  const double q2 = MeasureRoundTrip(GgmlType::kQ2_K, w, 512, nullptr).rmse;
  EXPECT_LT(q8, q6);
  EXPECT_LT(q6, q4);
  EXPECT_LT(q4, q2);
  EXPECT_EQ(MeasureRoundTrip(GgmlType::kF32, w, 512, nullptr).rmse, 0.0);
  // Activation formats go through the reference quantizer.
  EXPECT_GT(MeasureRoundTrip(GgmlType::kQ8_K, w, 512, nullptr).cosine, 0.9999);
}

}  // namespace
}  // namespace quantlab
