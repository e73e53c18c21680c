// Scalar activation math: expf, as ggml's build without SIMD.
#include "quantlab/kernels/activation_math.h"

#include <cmath>

#include "quantlab/kernels/registry.h"

namespace quantlab {
namespace {

void SiluMulRowScalar(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float silu = gate[i] / (1.0f + std::exp(-gate[i]));
    gate[i] = silu * up[i];
  }
}

double ExpShiftedScalar(const float* x, float max, float* y, int64_t n) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = std::exp(x[i] - max);
    sum += y[i];
  }
  return sum;
}

}  // namespace

namespace kernels_internal {

ActivationMath ActivationMathScalar() {
  return {.silu_mul_row = SiluMulRowScalar, .exp_shifted = ExpShiftedScalar};
}

}  // namespace kernels_internal

}  // namespace quantlab
