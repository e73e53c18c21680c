// The AVX-512 registry (F + BW + VL + DQ + VNNI): everything the AVX-512 files provide. What it does not
// list (the F16 / BF16 / F32 dots) keeps its AVX2 version. Compiled with those flags like every
// *_avx512.cc, and only called on a CPU that runs them.
#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {

IsaKernels RegistryAvx512() {
  return {
      .type_tables = {DotLegacyAvx512(), DotKQuantsAvx512(), GemmFloatAvx512(), GemmInt8KQuantsAvx512(),
                      GemmInt8Q8_0Avx512()},
      .attention = AttentionF16Avx512(),
      .activation_math = ActivationMathAvx512(),
  };
}

}  // namespace quantlab::kernels_internal
