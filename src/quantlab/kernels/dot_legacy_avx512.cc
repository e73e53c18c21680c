// The 32-element formats' dot products compiled with AVX-512 VL + VNNI (see dot_legacy.inc.h): the
// byte dot products become vpdpbusd.
#include "quantlab/kernels/dot_legacy.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotLegacyAvx512() { return DotLegacyHere(); }

}  // namespace quantlab::kernels_internal
