// The IQ4_XS dot product compiled for AVX2 + FMA + F16C (see dot_iq4_xs.inc.h).
#include "quantlab/kernels/dot_iq4_xs.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotIq4XsAvx2() { return DotIq4XsHere(); }

}  // namespace quantlab::kernels_internal
