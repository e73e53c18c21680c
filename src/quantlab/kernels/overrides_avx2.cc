// Placeholder until the avx2 kernels land.
#include "quantlab/kernels/kernel_impl.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> Avx2Overrides() { return {}; }

}  // namespace quantlab::kernels_internal
