// The AVX-512 registry (F + BW + VL + DQ + VNNI): everything the AVX-512 files provide. What it does not
// list (the F16 / BF16 / F32 dots) keeps its AVX2 version. Compiled with those flags like every
// *_avx512.cc, and only called on a CPU that runs them.
#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {

IsaKernels RegistryAvx512() {
  return {
      .type_tables = {DotLegacyAvx512(), DotKQuantsAvx512(), GemmFloatAvx512(), GemmInt8KQuantsAvx512(),
                      GemmInt8Q8_0Avx512(), GemmInt8IQuantsAvx512(), DotIq4XsAvx512(), DotIq3Avx512(),
                      DotIq1Avx512(),
                      // Replaces the BF16 entry of GemmFloatAvx512() on request (see UseBf16DotKernel).
                      UseBf16DotKernel() ? GemmFloatAvx512Bf16() : std::span<const TypeKernelEntry>()},
      .attention = AttentionF16Avx512(),
      .activation_math = ActivationMathAvx512(),
      .peak = {.f32_fma = PeakLoopsAvx512().f32_fma,
               .int8_dot = PeakLoopsAvx512().int8_dot,
               .bf16_dot = CpuHasAvx512Bf16() ? PeakLoopsAvx512Bf16().bf16_dot : nullptr},
  };
}

}  // namespace quantlab::kernels_internal
