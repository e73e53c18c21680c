// The batched F16 and BF16 kernels compiled with AVX-512: 16-lane vectors, a wider tile in 32 registers
// (see gemm_float.inc.h).
#include "quantlab/kernels/gemm_float.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> GemmFloatAvx512() { return GemmFloatHere(); }

}  // namespace quantlab::kernels_internal
