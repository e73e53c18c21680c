// The batched K-quant kernels compiled for AVX2 + FMA + F16C (see gemm_kquants.inc.h).
#include "quantlab/kernels/gemm_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> GemmKQuantsAvx2() { return GemmKQuantsHere(); }

}  // namespace quantlab::kernels_internal
