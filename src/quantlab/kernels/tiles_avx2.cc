// AVX2 tile kernels (several weight rows x several tokens per call) for prompt processing.
#include "quantlab/kernels/kernel_impl.h"
#include "quantlab/kernels/simd_avx2.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> TileAvx2Kernels() { return {}; }

}  // namespace quantlab::kernels_internal
