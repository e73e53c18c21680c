// The compute-peak loops at AVX2 (see peak_loops.inc.h): 8-lane FMA, maddubs + madd.
#include "quantlab/kernels/peak_loops.inc.h"

namespace quantlab::kernels_internal {

PeakLoops PeakLoopsAvx2() { return {.f32_fma = PeakF32Fma, .int8_dot = PeakInt8Dot}; }

}  // namespace quantlab::kernels_internal
