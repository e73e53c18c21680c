// The attention kernels compiled with AVX2 (see attention_f16.inc.h).
#include "quantlab/kernels/attention_f16.inc.h"

namespace quantlab::kernels_internal {
AttentionKernels AttentionF16Avx2() { return AttentionF16Here(); }
}  // namespace quantlab::kernels_internal
