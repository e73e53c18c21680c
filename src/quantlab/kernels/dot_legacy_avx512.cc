// The 32-element formats' dot products compiled with AVX-512 VL + VNNI (see dot_legacy.inc.h): the
// byte dot products become vpdpbusd.
#include "quantlab/kernels/dot_legacy.inc.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> LegacyAvx512Kernels() { return LegacyKernelsHere(); }

}  // namespace quantlab::kernels_internal
