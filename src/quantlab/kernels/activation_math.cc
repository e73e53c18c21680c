// Scalar activation math (expf, as ggml's build without SIMD) and the per-ISA choice.
#include "quantlab/kernels/activation_math.h"

#include <cmath>
#include <iterator>

#include "quantlab/kernels/kernel_impl.h"

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

const ActivationMath& ActivationMathFor() { return ActivationMathFor(DetectedIsa()); }

const ActivationMath& ActivationMathFor(CpuIsa isa) {
  static const ActivationMath versions[] = {
    {SiluMulRowScalar, ExpShiftedScalar},
#if defined(QUANTLAB_X86)
    kernels_internal::ActivationMathAvx2(),
    kernels_internal::ActivationMathAvx512(),
#endif
  };
  return versions[kernels_internal::IsaIndex(isa, std::size(versions))];
}

}  // namespace quantlab
