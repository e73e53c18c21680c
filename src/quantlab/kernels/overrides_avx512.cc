// Placeholder until the avx512 kernels land.
#include "quantlab/kernels/kernel_impl.h"

namespace quantlab::kernels_internal {

std::span<const KernelOverride> Avx512Overrides() { return {}; }

}  // namespace quantlab::kernels_internal
