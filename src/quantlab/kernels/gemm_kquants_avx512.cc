// The batched K-quant kernels compiled with AVX-512 VL + VNNI (see gemm_kquants.inc.h).
#include "quantlab/kernels/gemm_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> GemmKQuantAvx512Kernels() { return KQuantGemmKernelsHere(); }

}  // namespace quantlab::kernels_internal
