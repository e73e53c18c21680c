// The lattice i-quant dot products compiled for AVX2 + FMA + F16C (see dot_iq3.inc.h).
#include "quantlab/kernels/dot_iq3.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotIq3Avx2() { return DotIq3Here(); }

}  // namespace quantlab::kernels_internal
