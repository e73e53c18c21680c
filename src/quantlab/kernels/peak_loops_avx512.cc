// The compute-peak loops at AVX-512 (see peak_loops.inc.h): 16-lane FMA, vpdpbusd.
#include "quantlab/kernels/peak_loops.inc.h"

namespace quantlab::kernels_internal {

PeakLoops PeakLoopsAvx512() { return {.f32_fma = PeakF32Fma, .int8_dot = PeakInt8Dot}; }

}  // namespace quantlab::kernels_internal
