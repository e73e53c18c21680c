// Batched (prompt-processing) kernels for the K-quants (Q2_K..Q6_K) on AVX-512 VNNI: one int8 matrix
// kernel for every K-quant, as near the int8 peak as exact integer arithmetic allows.
//
// Panel: 16 weight rows are unpacked together, super-block by super-block, into unsigned bytes (Q2_K
// 0..3, Q3_K q+4 in 0..7, Q4_K 0..15, Q5_K 0..31, Q6_K q+32 in 0..63: kquants_unpack.inc.h) interleaved
// 4 bytes per row, so one zmm holds 4 consecutive elements of all 16 rows (one row per int32 lane).
// vpdpbusd of that zmm with a token's 4 activation bytes broadcast to every lane (embedded {1to16}
// broadcast) advances 16 rows by 4 elements; the weight zmm is reused by every token of the register
// block, and the panel by every token of the token block.
//
// Per sub-block (16 elements, or 32 for Q4_K/Q5_K whose scales are per 32) the int32 sums are multiplied
// by the rows' integer sub-block scales (vpmulld) and added up; the formats' offsets (Q3_K's -4, Q6_K's
// -32) and mins (Q2_K, Q4_K, Q5_K) are the per-16 multipliers of Q8_K's bsums, applied with vpdpwssd. So
// each (row, token, super-block) gets exactly the integers the vec_dot computes, and then, as there,
//   acc += (d * yd) * isum  [- (dmin * yd) * min_sum];
// only the order of the float additions over super-blocks differs from the vec_dot's.
#include "quantlab/kernels/int8_q8_k_panel_avx512.inc.h"
#include "quantlab/kernels/kquants_unpack.inc.h"

namespace quantlab::kernels_internal {
namespace {

constexpr FormatTraits kQ2K{.sub_len = 16, .sums_fit_int16 = true, .mins_apart = true};
constexpr FormatTraits kQ3K{.sub_len = 16, .sums_fit_int16 = true, .mins_apart = false};
constexpr FormatTraits kQ4K{.sub_len = 16, .sums_fit_int16 = true, .mins_apart = true};
constexpr FormatTraits kQ5K{.sub_len = 32, .sums_fit_int16 = false, .mins_apart = true};
constexpr FormatTraits kQ6K{.sub_len = 16, .sums_fit_int16 = false, .mins_apart = false};

}  // namespace

std::span<const TypeKernelEntry> GemmInt8KQuantsAvx512() {
  constexpr GgmlType kQ8_K = GgmlType::kQ8_K;
  static const TypeKernelEntry kernels[] = {
      {.type = GgmlType::kQ2_K, .vec_dot_type = kQ8_K, .gemm = Q8KPanelGemm<BlockQ2_K, kQ2K, UnpackQ2_K>()},
      {.type = GgmlType::kQ3_K, .vec_dot_type = kQ8_K, .gemm = Q8KPanelGemm<BlockQ3_K, kQ3K, UnpackQ3_K>()},
      {.type = GgmlType::kQ4_K, .vec_dot_type = kQ8_K, .gemm = Q8KPanelGemm<BlockQ4_K, kQ4K, UnpackQ4_K>()},
      {.type = GgmlType::kQ5_K, .vec_dot_type = kQ8_K, .gemm = Q8KPanelGemm<BlockQ5_K, kQ5K, UnpackQ5_K>()},
      {.type = GgmlType::kQ6_K, .vec_dot_type = kQ8_K, .gemm = Q8KPanelGemm<BlockQ6_K, kQ6K, UnpackQ6_K>()},
  };
  return kernels;
}

}  // namespace quantlab::kernels_internal
