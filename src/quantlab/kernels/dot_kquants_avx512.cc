// The K-quant dot products compiled with AVX-512 VL + VNNI (see dot_kquants.inc.h).
#include "quantlab/kernels/dot_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotKQuantsAvx512() { return DotKQuantsHere(); }

}  // namespace quantlab::kernels_internal
