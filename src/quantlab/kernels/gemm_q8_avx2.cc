// The batched Q8_0/Q4_0/Q5_0 kernels compiled for AVX2 + FMA + F16C (see gemm_q8.inc.h).
#include "quantlab/kernels/gemm_q8.inc.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> GemmQ8Avx2Kernels() { return Q8GemmKernelsHere(); }

}  // namespace quantlab::kernels_internal
