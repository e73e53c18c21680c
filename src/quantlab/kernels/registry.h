// Internal to kernels/: the kernel registry. Each ISA has one registry function (registry_scalar.cc,
// registry_avx2.cc, registry_avx512.cc) that returns all of its kernels as one IsaKernels value: per
// weight type the to-float, activation converter, dot product and batched kernel, plus the attention
// dots and the activation math. registry.cc stacks them into one table per ISA, scalar at the bottom,
// each SIMD ISA replacing only what it lists, and answers every lookup through CapToSupported().
//
// Adding a kernel: write it in its family's file (dot_*, gemm_*, attention_*, activation_*), list it in
// that file's table, and, for a new file, add the file's getter to its ISA's registry function.
//
// Naming: a file <family>_<isa>.cc exports <Family><Isa>() (dot_legacy_avx2.cc: DotLegacyAvx2()); a
// *.inc.h body compiled once per ISA names its functions without an ISA (DotQ4_KQ8_K), since the same
// source is the AVX2 and the AVX-512 one. Scalar twins end in Scalar (DotQ4_KQ8_KScalar); they define
// the SIMD results and tests/kernels compares against them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "quantlab/kernels/activation_math.h"
#include "quantlab/kernels/attention_kernels.h"
#include "quantlab/kernels/kernels.h"
#include "quantlab/kernels/peak_loops.h"

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
//
// Blocked kernels (blocked set, the others null) do their own cache blocking over the whole call:
// blocked(...) writes out[t * out_stride + r] for r < n_rows, t < n_tokens, using `workspace`
// (workspace_bytes(n) bytes, 64-byte aligned) for its packed copies of weights and activations.
struct GemmKernel {
  size_t (*unpacked_row_bytes)(int64_t n) = nullptr;  // a multiple of 64
  void (*unpack)(const void* row, int64_t n, void* dst) = nullptr;
  void (*tile)(int64_t n, const void* const* unpacked_rows, int n_rows, const void* activations,
               size_t activation_stride, int n_tokens, float* out, size_t out_stride) = nullptr;
  int max_rows = 0;
  int max_tokens = 0;
  void (*unpack_panel)(const void* const* rows, int n_rows, int64_t n, void* dst) = nullptr;
  size_t (*workspace_bytes)(int64_t n) = nullptr;
  void (*blocked)(const void* weights, size_t weight_stride, int64_t n_rows, int64_t n, const void* act,
                  size_t act_stride, int64_t n_tokens, float* out, size_t out_stride,
                  void* workspace) = nullptr;
  bool present() const { return tile != nullptr || blocked != nullptr; }
  // Optional: each activation row of a token block is first re-laid out by pack_activation (e.g. with
  // its block sums precomputed) into packed_activation_bytes(n) bytes, and the tile gets the packed rows.
  size_t (*packed_activation_bytes)(int64_t n) = nullptr;
  void (*pack_activation)(const void* row, int64_t n, void* dst) = nullptr;
};

// One ISA's kernels for one weight type. In the scalar registry every function is set (to_float may be
// left null: it is then quant/'s dequantizer) and gemm is empty; in a SIMD registry a null member keeps
// the lower ISA's. vec_dot_type is a property of the type, not of the ISA: a SIMD entry repeats it and
// the registry checks that it agrees with the scalar one.
struct TypeKernelEntry {
  GgmlType type;
  GgmlType vec_dot_type;
  ToFloatFn to_float = nullptr;
  FromFloatFn from_float = nullptr;
  VecDotFn vec_dot = nullptr;
  GemmKernel gemm = {};
};

// Everything one ISA contributes. Null members of `attention`, `activation_math` and `peak` keep the
// lower ISA's.
// Free of container code on purpose: the AVX2/AVX-512 registries are compiled with those ISAs' flags,
// and a container function instantiated there (not inlined, say at -O0) could be the copy the linker
// keeps for every caller, an illegal instruction on a CPU without the ISA. Entries() flattens the
// tables in ordinary code.
struct IsaKernels {
  std::array<std::span<const TypeKernelEntry>, 10> type_tables = {};
  AttentionKernels attention = {};
  ActivationMath activation_math = {};
  PeakLoops peak = {};
};

// Every per-type entry of an ISA's registry, in table order.
std::vector<TypeKernelEntry> Entries(const IsaKernels& isa);

// The registries, one per ISA. A SIMD one is only called on a CPU that runs its ISA.
IsaKernels RegistryScalar();  // registry_scalar.cc
IsaKernels RegistryAvx2();    // registry_avx2.cc (x86 only)
IsaKernels RegistryAvx512();  // registry_avx512.cc (x86 only)

// `isa` lowered to the best ISA this CPU runs among those compiled in. Every lookup goes through it, so
// no caller can be handed code the CPU cannot execute.
CpuIsa CapToSupported(CpuIsa isa);

// Whether the CPU runs AVX512-BF16 (vdpbf16ps), an extension the AVX-512 registry uses where present.
bool CpuHasAvx512Bf16();
// Whether BF16 weights use the vdpbf16ps kernel (gemm_float_avx512bf16.cc): only on request
// (QUANTLAB_BF16_DOT=1) on a CPU that has it. Not the default: on the machine it was measured on,
// vdpbf16ps ran at about a quarter of the FMA instruction rate, so the F32-FMA kernel was faster.
bool UseBf16DotKernel();

// The batched kernel for a weight type at an ISA (falls back to lower ISAs); !present() if none.
GemmKernel GemmKernelFor(GgmlType type, CpuIsa isa);

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
float DotIQ4_XSQ8_KScalar(int64_t n, const void* w, const void* a);   // dot_iq4_xs_scalar.cc
float DotIQ3_XXSQ8_KScalar(int64_t n, const void* w, const void* a);  // dot_lattice_scalar.cc
float DotIQ3_SQ8_KScalar(int64_t n, const void* w, const void* a);    // dot_lattice_scalar.cc
float DotIQ2_SQ8_KScalar(int64_t n, const void* w, const void* a);    // dot_lattice_scalar.cc
float DotIQ2_XXSQ8_KScalar(int64_t n, const void* w, const void* a);  // dot_lattice_scalar.cc
float DotIQ2_XSQ8_KScalar(int64_t n, const void* w, const void* a);   // dot_lattice_scalar.cc
float DotIQ1_SQ8_KScalar(int64_t n, const void* w, const void* a);    // dot_lattice_scalar.cc
float DotIQ1_MQ8_KScalar(int64_t n, const void* w, const void* a);    // dot_lattice_scalar.cc
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

// --- What each file contributes (the registry functions above assemble these) ------------------------
ActivationMath ActivationMathScalar();                     // activation_math_scalar.cc
AttentionKernels AttentionF16Scalar();                     // attention_f16_scalar.cc
std::span<const TypeKernelEntry> DotLegacyAvx2();          // dot_legacy_avx2.cc
std::span<const TypeKernelEntry> DotKQuantsAvx2();         // dot_kquants_avx2.cc
std::span<const TypeKernelEntry> DotFloatAvx2();           // dot_float_avx2.cc
std::span<const TypeKernelEntry> GemmKQuantsAvx2();        // gemm_kquants_avx2.cc
std::span<const TypeKernelEntry> GemmFloatAvx2();          // gemm_float_avx2.cc
std::span<const TypeKernelEntry> GemmQ8Avx2();             // gemm_q8_avx2.cc
std::span<const TypeKernelEntry> GemmIQuantsAvx2();        // gemm_iquants_avx2.cc
std::span<const TypeKernelEntry> DotIq4XsAvx2();           // dot_iq4_xs_avx2.cc
std::span<const TypeKernelEntry> DotIq3Avx2();             // dot_iq3_avx2.cc
std::span<const TypeKernelEntry> DotIq1Avx2();             // dot_iq1_avx2.cc
AttentionKernels AttentionF16Avx2();                       // attention_f16_avx2.cc
ActivationMath ActivationMathAvx2();                       // activation_math_avx2.cc
std::span<const TypeKernelEntry> DotLegacyAvx512();        // dot_legacy_avx512.cc
std::span<const TypeKernelEntry> DotKQuantsAvx512();       // dot_kquants_avx512.cc
std::span<const TypeKernelEntry> GemmFloatAvx512();        // gemm_float_avx512.cc
std::span<const TypeKernelEntry> GemmInt8KQuantsAvx512();  // gemm_int8_kquants_avx512.cc
std::span<const TypeKernelEntry> GemmInt8Q8_0Avx512();     // gemm_int8_q8_0_avx512.cc
std::span<const TypeKernelEntry> GemmInt8IQuantsAvx512();  // gemm_int8_iquants_avx512.cc
std::span<const TypeKernelEntry> DotIq4XsAvx512();         // dot_iq4_xs_avx512.cc
std::span<const TypeKernelEntry> DotIq3Avx512();           // dot_iq3_avx512.cc
std::span<const TypeKernelEntry> DotIq1Avx512();           // dot_iq1_avx512.cc
AttentionKernels AttentionF16Avx512();                     // attention_f16_avx512.cc
ActivationMath ActivationMathAvx512();                     // activation_math_avx512.cc

// The 16-bit float formats' AVX512-BF16 kernel and the roofline's peak loops.
std::span<const TypeKernelEntry> GemmFloatAvx512Bf16();  // gemm_float_avx512bf16.cc (AVX512-BF16 CPUs)
PeakLoops PeakLoopsAvx2();                               // peak_loops_avx2.cc
PeakLoops PeakLoopsAvx512();                             // peak_loops_avx512.cc
PeakLoops PeakLoopsAvx512Bf16();                         // peak_loops_avx512bf16.cc (AVX512-BF16 CPUs)

}  // namespace quantlab::kernels_internal
