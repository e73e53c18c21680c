#include "quantlab/model/gelu.h"

#include <array>
#include <cmath>

#include "quantlab/util/fp16.h"

namespace quantlab {
namespace {

using GeluTable = std::array<fp16_t, 1 << 16>;

// Built once, on first use (thread-safe static initialisation): 128 KiB.
const GeluTable& Table() {
  static const GeluTable table = [] {
    GeluTable t{};
    for (uint32_t i = 0; i < t.size(); ++i) {
      t[i] = Fp32ToFp16(GeluTanhFormula(Fp16ToFp32(static_cast<fp16_t>(i))));
    }
    return t;
  }();
  return table;
}

}  // namespace

float GeluTanhFormula(float x) {
  constexpr float kCoefA = 0.044715f;
  constexpr float kSqrt2OverPi = 0.79788456080286535587989211986876f;
  const float inner = std::fma(kCoefA * x, x, 1.0f);
  return (0.5f * x) * (1.0f + std::tanh((kSqrt2OverPi * x) * inner));
}

float GeluTanh(float x) {
  if (x <= -10.0f) return 0.0f;
  if (x >= 10.0f) return x;
  return Fp16ToFp32(Table()[Fp32ToFp16(x)]);
}

void GeluMulRow(float* gate, const float* up, int64_t n) {
  const GeluTable& table = Table();
  for (int64_t i = 0; i < n; ++i) {
    const float x = gate[i];
    const float g = x <= -10.0f ? 0.0f : x >= 10.0f ? x : Fp16ToFp32(table[Fp32ToFp16(x)]);
    gate[i] = g * up[i];
  }
}

}  // namespace quantlab
