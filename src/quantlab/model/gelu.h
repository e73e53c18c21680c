// GELU with the tanh approximation, as ggml's CPU backend computes it for F32 activations (gemma2's
// feed-forward gate): the input rounded to F16 indexes a table of 65536 F16 results, inputs at or below
// -10 give 0 and at or above 10 give the input. The table rounds every result to F16, so computing the
// formula in float would differ from llama.cpp in most elements.
#pragma once

#include <cstdint>

namespace quantlab {

// 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))) in float, the inner 1 + (0.044715 x) x fused into
// one rounding as the compiler fuses it in ggml's native build.
float GeluTanhFormula(float x);

// gelu(x) as ggml's F32 GELU returns it (through the F16 table).
float GeluTanh(float x);

// gate[i] = gelu(gate[i]) * up[i] for i < n: ggml's gelu followed by mul.
void GeluMulRow(float* gate, const float* up, int64_t n);

}  // namespace quantlab
