// The 32-element formats' dot products compiled for AVX2 + FMA + F16C (see dot_legacy.inc.h).
#include "quantlab/kernels/dot_legacy.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotLegacyAvx2() { return DotLegacyHere(); }

}  // namespace quantlab::kernels_internal
