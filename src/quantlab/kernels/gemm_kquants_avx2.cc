// The batched K-quant kernels compiled for AVX2 + FMA + F16C (see gemm_kquants.inc.h).
#include "quantlab/kernels/gemm_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> GemmAvx2Kernels() { return KQuantGemmKernelsHere(); }

}  // namespace quantlab::kernels_internal
