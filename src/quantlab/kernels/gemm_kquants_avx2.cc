// The batched K-quant kernels compiled for AVX2 + FMA + F16C (see gemm_kquants.inc.h).
#include "quantlab/kernels/gemm_kquants.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> GemmKQuantsAvx2() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ2_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ2_K)},
      {.type = GgmlType::kQ3_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ3_K)},
      {.type = GgmlType::kQ4_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ4_K)},
      {.type = GgmlType::kQ5_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ5_K)},
      {.type = GgmlType::kQ6_K, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackQ6_K)},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
