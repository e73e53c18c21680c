// Batched (prompt-processing) kernels for the lattice i-quants (IQ3_XXS, IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S,
// IQ1_S, IQ1_M) compiled for AVX2 + FMA + F16C: the K-quants' tile (gemm_kquants.inc.h) over rows unpacked by
// iquants_unpack.inc.h. Their offset bytes (at most 126) times an activation byte fit maddubs' int16 pairs.
// IQ4_XS's (up to 241) do not, so it keeps the per-row dot on AVX2; IQ4_NL (Q8_0 activations) is in
// gemm_q8_avx2.cc.
#include "quantlab/kernels/gemm_kquants.inc.h"
#include "quantlab/kernels/iquants_unpack.inc.h"

namespace quantlab::kernels_internal {

std::span<const TypeKernelEntry> GemmIQuantsAvx2() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kIQ3_XXS, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ3_XXS)},
      {.type = GgmlType::kIQ3_S, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ3_S)},
      {.type = GgmlType::kIQ2_S, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ2_S)},
      {.type = GgmlType::kIQ2_XXS, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ2_XXS)},
      {.type = GgmlType::kIQ2_XS, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ2_XS)},
      {.type = GgmlType::kIQ1_S, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ1_S)},
      {.type = GgmlType::kIQ1_M, .vec_dot_type = kQ8_K, .gemm = KQuantGemm(UnpackIQ1_M)},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
