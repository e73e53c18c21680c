// The vectorised exp behind SiLU and the softmax (activation_math.h): within 2 ulp of expf over the range
// a softmax or a gate sees, exact limits far outside it, the same values for an element whatever its
// position (tail or not), and SiLU rows equal to the formula.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "quantlab/kernels/activation_math.h"

namespace quantlab {
namespace {

// Distance in units in the last place between two finite floats of the same sign.
int64_t UlpDistance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return std::abs(static_cast<int64_t>(ia) - static_cast<int64_t>(ib));
}

TEST(ActivationMath, ExpWithinTwoUlpOfExpf) {
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);
  for (CpuIsa isa : SupportedIsas()) {
    std::vector<float> y(x.size());
    const double sum =
        ActivationMathFor(isa).exp_shifted(x.data(), 0.0f, y.data(), static_cast<int64_t>(x.size()));
    double want_sum = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = std::exp(x[i]);
      want_sum += y[i];
      ASSERT_LE(UlpDistance(y[i], want), 2)
          << IsaName(isa) << " x=" << x[i] << " got " << y[i] << " want " << want;
    }
    EXPECT_EQ(sum, want_sum) << IsaName(isa);
  }
}

TEST(ActivationMath, ExpLimitsAndSubnormals) {
  const std::vector<float> x = {-1000.0f, -200.0f, -103.0f,
                                -90.0f,   0.0f,    88.5f,
                                200.0f,   1000.0f, -std::numeric_limits<float>::infinity()};
  for (CpuIsa isa : SupportedIsas()) {
    std::vector<float> y(x.size());
    ActivationMathFor(isa).exp_shifted(x.data(), 0.0f, y.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(y[0], 0.0f) << IsaName(isa);
    EXPECT_EQ(y[1], 0.0f) << IsaName(isa);
    EXPECT_GT(y[2], 0.0f) << IsaName(isa) << ": e^-103 is a subnormal, not 0";
    EXPECT_NEAR(y[3], std::exp(-90.0f), 1e-45f) << IsaName(isa);
    EXPECT_EQ(y[4], 1.0f) << IsaName(isa);
    EXPECT_TRUE(std::isinf(y[5]) || y[5] > 1e38f) << IsaName(isa);
    EXPECT_TRUE(std::isinf(y[6])) << IsaName(isa);
    EXPECT_TRUE(std::isinf(y[7])) << IsaName(isa);
    EXPECT_EQ(y[8], 0.0f) << IsaName(isa) << ": masked scores are -inf";
  }
}

TEST(ActivationMath, ShiftedExpIsPositionIndependent) {
  // A softmax row is exponentiated as whole vectors, its tail included: an element's value must not
  // depend on where in the row it sits.
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(0.0f, 4.0f);
  std::vector<float> x(37);
  for (float& v : x) v = dist(rng);
  for (CpuIsa isa : SupportedIsas()) {
    const ActivationMath& math = ActivationMathFor(isa);
    std::vector<float> all(x.size());
    math.exp_shifted(x.data(), 1.5f, all.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      float one;
      math.exp_shifted(&x[i], 1.5f, &one, 1);
      ASSERT_EQ(one, all[i]) << IsaName(isa) << " element " << i;
    }
  }
}

TEST(ActivationMath, SiluMulRowMatchesTheFormula) {
  std::mt19937 rng(4);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  for (CpuIsa isa : SupportedIsas()) {
    for (int64_t n : {1, 7, 8, 15, 16, 17, 100}) {
      std::vector<float> gate(n), up(n);
      for (auto& v : gate) v = dist(rng);
      for (auto& v : up) v = dist(rng);
      std::vector<float> got = gate;
      ActivationMathFor(isa).silu_mul_row(got.data(), up.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = gate[i] / (1.0 + std::exp(-static_cast<double>(gate[i]))) * up[i];
        ASSERT_NEAR(got[i], want, 1e-6 * std::fabs(want) + 1e-30) << IsaName(isa) << " n=" << n << " i=" << i;
      }
    }
  }
}

}  // namespace
}  // namespace quantlab
