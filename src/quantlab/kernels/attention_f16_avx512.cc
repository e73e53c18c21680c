// The attention kernels compiled with AVX-512 VL: the same AVX2 arithmetic with 32 registers, so four
// query vectors share each cache load (see attention_f16.inc.h).
#include "quantlab/kernels/attention_f16.inc.h"

namespace quantlab::kernels_internal {
AttentionKernels AttentionF16Avx512() { return AttentionF16Here(); }
}  // namespace quantlab::kernels_internal
