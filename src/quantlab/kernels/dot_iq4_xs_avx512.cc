// The IQ4_XS dot product compiled for AVX-512 (with VNNI the signed byte dot is one instruction; see
// dot_iq4_xs.inc.h).
#include "quantlab/kernels/dot_iq4_xs.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotIq4XsAvx512() { return DotIq4XsHere(); }

}  // namespace quantlab::kernels_internal
