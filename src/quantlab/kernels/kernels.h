// The kernel contract between the quantized formats and the engine. For each weight type: how to turn a
// row back into floats, which activation format its dot product takes (as ggml pairs them: K-quants with
// Q8_K, Q4_0/Q5_0/Q8_0/IQ4_NL with Q8_0, Q4_1/Q5_1 with Q8_1, F16 with F16, BF16 with BF16, F32 with F32),
// how to quantize an activation row into that format, and the dot product itself.
//
// Each function exists as a scalar reference (the definition) and SIMD versions chosen at start-up from
// cpuid; SIMD versions are tested against the reference: from_float / to_float byte-identical, vec_dot
// equal up to the order of float additions (integer block sums are exact).
//
// Activation formats: Q8_K comes from quant/'s reference quantizer (as on ggml's x86 build); Q8_0 and
// Q8_1 follow the rule of ggml's x86 build (scale 127/amax, round half to even), which differs in rare
// ties from quantize_row_q8_0_ref: the bytes are those llama.cpp feeds its dot products on x86.
//
// Files: dot_scalar.cc (reference dots), activation_quant.cc (Q8_0/Q8_1 rule, float conversions),
// dot_*.inc.h / gemm_*.inc.h / attention_f16.inc.h (SIMD bodies compiled once per ISA by the *_avx2.cc /
// *_avx512.cc files), registry_<isa>.cc (all of one ISA's kernels), registry.cc (the per-ISA tables and
// the cpuid dispatch; registry.h explains how to add a kernel), matmul.h (the engine's entry point,
// batched kernels), attention_kernels.h (grouped dots against the F16 KV cache), activation_math.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "quantlab/gguf/types.h"

namespace quantlab {

struct TypeKernels {
  GgmlType type;
  GgmlType vec_dot_type;  // format the activations must be in for `vec_dot`
  // Weight row (n elements of `type`) -> floats.
  void (*to_float)(const void* src, float* dst, int64_t n);
  // Activation floats -> n elements of `vec_dot_type`.
  void (*from_float)(const float* src, void* dst, int64_t n);
  // Dot product of a weight row (`type`) and an activation row (`vec_dot_type`), n elements.
  float (*vec_dot)(int64_t n, const void* weight_row, const void* activation_row);
};

enum class CpuIsa { kScalar, kAvx2, kAvx512 };

// The best ISA this CPU supports among those compiled in; QUANTLAB_ISA=scalar|avx2|avx512 in the
// environment caps it (for tests and comparisons).
CpuIsa DetectedIsa();
const char* IsaName(CpuIsa isa);
// The ISAs this CPU can run among those compiled in, lowest first (always starts with kScalar); ignores
// QUANTLAB_ISA. Tests iterate over these.
std::span<const CpuIsa> SupportedIsas();

// Kernels for `type` at the detected ISA; nullptr for a type quantlab cannot compute with.
const TypeKernels* KernelsFor(GgmlType type);
// Kernels at a given ISA (falls back to the next lower one where a kernel has no such version; an ISA
// above what the CPU supports is capped to the best supported one, as by every lookup of kernels/).
const TypeKernels* KernelsFor(GgmlType type, CpuIsa isa);

}  // namespace quantlab
