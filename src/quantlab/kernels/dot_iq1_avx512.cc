// The 1-bit i-quant dot products compiled for AVX-512 (with VNNI the byte dot is one instruction; see
// dot_iq1.inc.h).
#include "quantlab/kernels/dot_iq1.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotIq1Avx512() { return DotIq1Here(); }

}  // namespace quantlab::kernels_internal
