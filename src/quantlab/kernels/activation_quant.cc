// Activation conversions (from_float) the kernels own.
//
// Q8_0 / Q8_1: llama.cpp's x86 build does not quantize activations with ggml's quantize_row_q8_0_ref
// (which quant/ implements) but with an AVX routine that differs in two details: the inverse scale is
// 127/amax rather than 1/(amax/127), and rounding is to nearest-even rather than half away from zero.
// The two give different bytes for some inputs, so to reproduce llama.cpp's logits on x86 the engine must
// use this rule; scalar and SIMD versions here produce identical bytes. (Q8_K activations use the
// reference quantizer on x86 too, so they come from quant/.)
#include <cmath>
#include <cstring>

#include "quantlab/kernels/registry.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::kernels_internal {
namespace {

// Quantizes 32 floats: returns the float scale d and writes the rounded values; `*int_sum` gets their
// sum (Q8_1 needs it).
float QuantizeBlock32X86Rule(const float* x, int8_t* q, int* int_sum) {
  float amax = 0;
  for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  const float d = amax / 127.f;
  const float inverse = amax != 0.0f ? 127.f / amax : 0.0f;
  int sum = 0;
  for (int i = 0; i < 32; ++i) {
    // nearbyint under the default rounding mode: round half to even, as _mm256_round_ps(_MM_ROUND_NEAREST).
    const int v = static_cast<int>(std::nearbyint(x[i] * inverse));
    q[i] = static_cast<int8_t>(v);
    sum += v;
  }
  *int_sum = sum;
  return d;
}

}  // namespace

void QuantizeActivationQ8_0Scalar(const float* src, void* dst, int64_t n) {
  QL_CHECK(n % kQK8_0 == 0);
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    int unused;
    y[b].d = Fp32ToFp16(QuantizeBlock32X86Rule(src + b * kQK8_0, y[b].qs, &unused));
  }
}

void QuantizeActivationQ8_1Scalar(const float* src, void* dst, int64_t n) {
  QL_CHECK(n % kQK8_1 == 0);
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / kQK8_1; ++b) {
    int int_sum;
    const float d = QuantizeBlock32X86Rule(src + b * kQK8_1, y[b].qs, &int_sum);
    y[b].d = Fp32ToFp16(d);
    y[b].s = Fp32ToFp16(d * static_cast<float>(int_sum));
  }
}

void FloatToF16Scalar(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<fp16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(src[i]);
}

void FloatToBF16Scalar(const float* src, void* dst, int64_t n) {
  auto* y = static_cast<bf16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(src[i]);
}

void FloatToF32Scalar(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

}  // namespace quantlab::kernels_internal
