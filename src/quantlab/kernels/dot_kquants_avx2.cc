// The K-quant dot products compiled for AVX2 + FMA + F16C (see dot_kquants.inc.h).
#include "quantlab/kernels/dot_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotKQuantsAvx2() { return DotKQuantsHere(); }

}  // namespace quantlab::kernels_internal
