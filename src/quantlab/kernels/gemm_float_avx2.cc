// The batched F16 and BF16 kernels compiled for AVX2 + FMA + F16C (see gemm_float.inc.h).
#include "quantlab/kernels/gemm_float.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> GemmFloatAvx2() { return GemmFloatHere(); }

}  // namespace quantlab::kernels_internal
