// The 1-bit i-quant dot products compiled for AVX2 + FMA + F16C (see dot_iq1.inc.h).
#include "quantlab/kernels/dot_iq1.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotIq1Avx2() { return DotIq1Here(); }

}  // namespace quantlab::kernels_internal
