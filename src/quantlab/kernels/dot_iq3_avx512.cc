// The lattice i-quant dot products compiled for AVX-512 (with VNNI the byte dot is one instruction;
// see dot_iq3.inc.h).
#include "quantlab/kernels/dot_iq3.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> DotIq3Avx512() { return DotIq3Here(); }

}  // namespace quantlab::kernels_internal
