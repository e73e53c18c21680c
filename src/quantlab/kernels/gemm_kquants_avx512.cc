// The batched K-quant kernels compiled with AVX-512 VL + VNNI (see gemm_kquants.inc.h).
#include "quantlab/kernels/gemm_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> GemmKQuantsAvx512() { return GemmKQuantsHere(); }

}  // namespace quantlab::kernels_internal
