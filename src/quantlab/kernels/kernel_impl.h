// Internal to kernels/: the per-ISA function sets the dispatcher (type_kernels.cc) assembles into the
// public TypeKernels tables, and the multi-row x multi-token tile kernels the matmul uses.
//
// Naming: Dot<Weight><Activation><Isa>, e.g. DotQ4_KQ8_KScalar. Every SIMD function has a scalar twin
// that defines its result; tests/kernels compares them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "quantlab/kernels/activation_math.h"
#include "quantlab/kernels/attention_kernels.h"
#include "quantlab/kernels/kernels.h"

namespace quantlab::kernels_internal {

using ToFloatFn = void (*)(const void* src, float* dst, int64_t n);
using FromFloatFn = void (*)(const float* src, void* dst, int64_t n);
using VecDotFn = float (*)(int64_t n, const void* weight_row, const void* activation_row);

// Batched (multi-token) path: weight rows are first unpacked into a kernel-specific layout (bytes,
// broadcast scales, ...) once per block of tokens, then a tile kernel multiplies up to max_rows unpacked
// rows with up to max_tokens activation rows at a time:
//   out[t * out_stride + r] = dot(weight row r, activation row t), r < n_rows, t < n_tokens.
// The unpacking cost is shared by all tokens of the block, the activation loads by all rows of a tile.
//
// Panel kernels (unpack_panel set, unpack null) instead unpack max_rows rows together into one
// interleaved panel of unpacked_row_bytes(n) bytes (padding rows past n_rows contribute nothing), and
// the tile gets that panel as unpacked_rows[0].
struct GemmKernel {
  size_t (*unpacked_row_bytes)(int64_t n) = nullptr;  // a multiple of 64
  void (*unpack)(const void* row, int64_t n, void* dst) = nullptr;
  void (*tile)(int64_t n, const void* const* unpacked_rows, int n_rows, const void* activations,
               size_t activation_stride, int n_tokens, float* out, size_t out_stride) = nullptr;
  int max_rows = 0;
  int max_tokens = 0;
  void (*unpack_panel)(const void* const* rows, int n_rows, int64_t n, void* dst) = nullptr;
};

// One ISA's replacement for some of a type's functions; null members keep the lower ISA's function.
struct KernelOverride {
  GgmlType type;
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;
  VecDotFn vec_dot = nullptr;
  GemmKernel gemm = {};
};

// --- Scalar reference (dot_scalar.cc, activation_quant.cc) -------------------------------------------
float DotQ4_0Q8_0Scalar(int64_t n, const void* w, const void* a);
float DotQ4_1Q8_1Scalar(int64_t n, const void* w, const void* a);
float DotIQ4_NLQ8_0Scalar(int64_t n, const void* w, const void* a);
float DotQ5_0Q8_0Scalar(int64_t n, const void* w, const void* a);
float DotQ5_1Q8_1Scalar(int64_t n, const void* w, const void* a);
float DotQ8_0Q8_0Scalar(int64_t n, const void* w, const void* a);
float DotQ2_KQ8_KScalar(int64_t n, const void* w, const void* a);
float DotQ3_KQ8_KScalar(int64_t n, const void* w, const void* a);
float DotQ4_KQ8_KScalar(int64_t n, const void* w, const void* a);
float DotQ5_KQ8_KScalar(int64_t n, const void* w, const void* a);
float DotQ6_KQ8_KScalar(int64_t n, const void* w, const void* a);
float DotF16F16Scalar(int64_t n, const void* w, const void* a);
float DotBF16BF16Scalar(int64_t n, const void* w, const void* a);
float DotF32F32Scalar(int64_t n, const void* w, const void* a);

// Activation quantizers for Q8_0 / Q8_1 as llama.cpp's x86 build runs them (see activation_quant.cc for
// how they differ from the _ref quantizers in quant/).
void QuantizeActivationQ8_0Scalar(const float* src, void* dst, int64_t n);
void QuantizeActivationQ8_1Scalar(const float* src, void* dst, int64_t n);
void FloatToF16Scalar(const float* src, void* dst, int64_t n);
void FloatToBF16Scalar(const float* src, void* dst, int64_t n);
void FloatToF32Scalar(const float* src, void* dst, int64_t n);
void F16ToFloatScalar(const void* src, float* dst, int64_t n);

// (static: each file, whatever its ISA flags, gets its own copy.)
// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block's packed 12 scale bytes.
static inline void UnpackScaleMinK4(const uint8_t* packed, int j, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = (packed[j + 4] & 0xF) | ((packed[j - 4] >> 6) << 4);
    *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// The 16 signed 6-bit scales of a Q3_K block (stored biased by 32 in 12 bytes).
static inline void UnpackQ3KScales(const uint8_t* packed, int8_t* scales) {
  for (int s = 0; s < 16; ++s) {
    const int low = s < 8 ? (packed[s] & 0xF) : (packed[s - 8] >> 4);
    const int high = (packed[8 + s % 4] >> (2 * (s / 4))) & 3;
    scales[s] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

// --- Per-ISA sets (only on x86; the files are not compiled elsewhere) ----------------------------------
std::span<const KernelOverride> Avx2Overrides();
std::span<const KernelOverride> Avx512Overrides();
// The pieces Avx2Overrides / Avx512Overrides are assembled from, one per file.
std::span<const KernelOverride> LegacyAvx2Kernels();        // dot_legacy_avx2.cc
std::span<const KernelOverride> KQuantAvx2Kernels();        // dot_kquants_avx2.cc
std::span<const KernelOverride> FloatAvx2Kernels();         // dot_float_avx2.cc
std::span<const KernelOverride> GemmAvx2Kernels();          // gemm_kquants_avx2.cc
std::span<const KernelOverride> GemmFloatAvx2Kernels();     // gemm_float_avx2.cc
std::span<const KernelOverride> LegacyAvx512Kernels();      // dot_legacy_avx512.cc
std::span<const KernelOverride> KQuantAvx512Kernels();      // dot_kquants_avx512.cc
std::span<const KernelOverride> GemmKQuantAvx512Kernels();  // gemm_kquants_avx512.cc
std::span<const KernelOverride> GemmQ8Avx2Kernels();        // gemm_q8_avx2.cc
std::span<const KernelOverride> GemmQ8Avx512Kernels();      // gemm_q8_avx512.cc
std::span<const KernelOverride> GemmFloatAvx512Kernels();   // gemm_float_avx512.cc
AttentionKernels AttentionAvx2Kernels();                    // attention_f16_avx2.cc
AttentionKernels AttentionAvx512Kernels();                  // attention_f16_avx512.cc
ActivationMath ActivationMathAvx2();                        // activation_math_avx2.cc
ActivationMath ActivationMathAvx512();                      // activation_math_avx512.cc

// Index of the version to use at `isa` among `n_versions` ordered scalar, AVX2, AVX-512 (non-x86
// builds have only the scalar one): capped to what this CPU runs and to the versions compiled in.
size_t IsaIndex(CpuIsa isa, size_t n_versions);

// The batched kernel for a weight type at an ISA (falls back to lower ISAs); tile == nullptr if none.
GemmKernel GemmKernelFor(GgmlType type, CpuIsa isa);

}  // namespace quantlab::kernels_internal
