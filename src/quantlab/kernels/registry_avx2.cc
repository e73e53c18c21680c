// The AVX2 registry (AVX2 + FMA + F16C + BMI2): everything the AVX2 files provide. Compiled with those
// flags like every *_avx2.cc, and only called on a CPU that runs them.
#include "quantlab/kernels/registry.h"

namespace quantlab::kernels_internal {

IsaKernels RegistryAvx2() {
  return {
      .type_tables = {DotLegacyAvx2(), DotKQuantsAvx2(), DotFloatAvx2(), GemmKQuantsAvx2(), GemmFloatAvx2(),
                      GemmQ8Avx2(), GemmIQuantsAvx2(), DotIq4XsAvx2(), DotIq3Avx2(), DotIq1Avx2()},
      .attention = AttentionF16Avx2(),
      .activation_math = ActivationMathAvx2(),
      .peak = PeakLoopsAvx2(),
  };
}

}  // namespace quantlab::kernels_internal
