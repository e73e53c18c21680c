// Batched (prompt-processing) kernels for the i-quants that take Q8_K activations (IQ4_XS, IQ3_XXS,
// IQ3_S, IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, IQ1_M) on AVX-512 VNNI: the K-quants' int8 panel kernel
// (int8_q8_k_panel_avx512.inc.h) over rows unpacked by iquants_unpack.inc.h (value + offset as unsigned
// bytes, the offset taken back through the bsums), so each (row, token, super-block) gets the vec_dot's
// integer sum and only the order of the float additions over super-blocks differs. (IQ4_NL takes Q8_0
// activations: gemm_int8_q8_0_avx512.cc.)
#include "quantlab/kernels/int8_q8_k_panel_avx512.inc.h"
#include "quantlab/kernels/iquants_unpack.inc.h"

namespace quantlab::kernels_internal {
namespace {

// All have bsums offsets (scaled by d) and no mins. Their offset bytes go up to 241 / 126 / 31 / 86 / 18,
// so a 16-element sum of q * y can exceed int16: the vpmulld path. Scales per 32 elements except IQ2_S's,
// IQ2_XS's and IQ1_M's (per 16).
constexpr FormatTraits kPer32{.sub_len = 32, .sums_fit_int16 = false, .mins_apart = false};
constexpr FormatTraits kPer16{.sub_len = 16, .sums_fit_int16 = false, .mins_apart = false};

}  // namespace

std::span<const TypeKernelEntry> GemmInt8IQuantsAvx512() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kIQ4_XS,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ4_XS, kPer32, UnpackIQ4_XS>()},
      {.type = GgmlType::kIQ3_XXS,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ3_XXS, kPer32, UnpackIQ3_XXS>()},
      {.type = GgmlType::kIQ3_S,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ3_S, kPer32, UnpackIQ3_S>()},
      {.type = GgmlType::kIQ2_S,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ2_S, kPer16, UnpackIQ2_S>()},
      {.type = GgmlType::kIQ2_XXS,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ2_XXS, kPer32, UnpackIQ2_XXS>()},
      {.type = GgmlType::kIQ2_XS,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ2_XS, kPer16, UnpackIQ2_XS>()},
      {.type = GgmlType::kIQ1_S,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ1_S, kPer32, UnpackIQ1_S>()},
      {.type = GgmlType::kIQ1_M,
       .vec_dot_type = kQ8_K,
       .gemm = Q8KPanelGemm<BlockIQ1_M, kPer16, UnpackIQ1_M>()},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
