// The scalar registry: every type quantlab computes with, its activation format (as ggml pairs them) and
// the reference functions that define every SIMD result. to_float is left to quant/'s dequantizers
// (ggml's dequantize_row_*), which the registry fills in.
#include "quantlab/kernels/registry.h"
#include "quantlab/quant/quantize.h"

namespace quantlab::kernels_internal {

IsaKernels RegistryScalar() {
  using T = GgmlType;
  // Q8_K activations come from quant/'s reference quantizer, as on ggml's x86 build.
  const FromFloatFn q8_k = ReferenceQuantizerFor(T::kQ8_K);
  static const TypeKernelEntry kEntries[] = {
      {.type = T::kF32, .vec_dot_type = T::kF32, .from_float = FloatToF32Scalar, .vec_dot = DotF32F32Scalar},
      {.type = T::kF16, .vec_dot_type = T::kF16, .from_float = FloatToF16Scalar, .vec_dot = DotF16F16Scalar},
      {.type = T::kBF16,
       .vec_dot_type = T::kBF16,
       .from_float = FloatToBF16Scalar,
       .vec_dot = DotBF16BF16Scalar},
      {.type = T::kQ4_0,
       .vec_dot_type = T::kQ8_0,
       .from_float = QuantizeActivationQ8_0Scalar,
       .vec_dot = DotQ4_0Q8_0Scalar},
      {.type = T::kQ4_1,
       .vec_dot_type = T::kQ8_1,
       .from_float = QuantizeActivationQ8_1Scalar,
       .vec_dot = DotQ4_1Q8_1Scalar},
      {.type = T::kIQ4_NL,
       .vec_dot_type = T::kQ8_0,
       .from_float = QuantizeActivationQ8_0Scalar,
       .vec_dot = DotIQ4_NLQ8_0Scalar},
      {.type = T::kQ5_0,
       .vec_dot_type = T::kQ8_0,
       .from_float = QuantizeActivationQ8_0Scalar,
       .vec_dot = DotQ5_0Q8_0Scalar},
      {.type = T::kQ5_1,
       .vec_dot_type = T::kQ8_1,
       .from_float = QuantizeActivationQ8_1Scalar,
       .vec_dot = DotQ5_1Q8_1Scalar},
      {.type = T::kQ8_0,
       .vec_dot_type = T::kQ8_0,
       .from_float = QuantizeActivationQ8_0Scalar,
       .vec_dot = DotQ8_0Q8_0Scalar},
      {.type = T::kQ2_K, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotQ2_KQ8_KScalar},
      {.type = T::kQ3_K, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotQ3_KQ8_KScalar},
      {.type = T::kQ4_K, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotQ4_KQ8_KScalar},
      {.type = T::kQ5_K, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotQ5_KQ8_KScalar},
      {.type = T::kQ6_K, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotQ6_KQ8_KScalar},
      {.type = T::kIQ4_XS, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ4_XSQ8_KScalar},
      {.type = T::kIQ3_XXS, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ3_XXSQ8_KScalar},
      {.type = T::kIQ3_S, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ3_SQ8_KScalar},
      {.type = T::kIQ2_S, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ2_SQ8_KScalar},
      {.type = T::kIQ2_XXS, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ2_XXSQ8_KScalar},
      {.type = T::kIQ2_XS, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ2_XSQ8_KScalar},
      {.type = T::kIQ1_S, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ1_SQ8_KScalar},
      {.type = T::kIQ1_M, .vec_dot_type = T::kQ8_K, .from_float = q8_k, .vec_dot = DotIQ1_MQ8_KScalar},
  };
  return {
      .type_tables = {std::span<const TypeKernelEntry>(kEntries)},
      .attention = AttentionF16Scalar(),
      .activation_math = ActivationMathScalar(),
  };
}

}  // namespace quantlab::kernels_internal
