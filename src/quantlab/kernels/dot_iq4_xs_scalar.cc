// Scalar reference dot product of IQ4_XS weights with Q8_K activations, as ggml's x86 build computes it:
// per 256-element super-block the integer sum over its eight 32-element blocks of (block scale ls - 32)
// times sum(table value * activation) is exact; it is scaled by d_w * d_a and summed in float.
#include "quantlab/kernels/registry.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"

namespace quantlab::kernels_internal {

float DotIQ4_XSQ8_KScalar(int64_t n, const void* w, const void* a) {
  QL_CHECK(n % kQK_K == 0);
  const auto* x = static_cast<const BlockIQ4_XS*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    int isum = 0;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      const int ls = ((x[b].scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((x[b].scales_h >> 2 * ib) & 3) << 4);
      const uint8_t* qs = x[b].qs + 16 * ib;
      const int8_t* q8 = y[b].qs + 32 * ib;
      int block = 0;
      for (int j = 0; j < 16; ++j) {
        block += kIq4nlValues[qs[j] & 0xf] * q8[j] + kIq4nlValues[qs[j] >> 4] * q8[j + 16];
      }
      isum += (ls - 32) * block;
    }
    sum += Fp16ToFp32(x[b].d) * y[b].d * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace quantlab::kernels_internal
