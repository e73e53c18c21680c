// Per-format quantizers and dequantizers behind quantize.h. Internal to the quant layer: callers use
// QuantizeRowReference / QuantizeRows / DequantizeRow or the function pointers from quantize.h.
//
//  *Ref(x, y, n):                   ggml's quantize_row_<type>_ref over n elements (any number of rows).
//  *Weighted(x, y, n_per_row, w):   ggml's quantize_row_<type>_impl for ONE row with importance weights
//                                   w (n_per_row values); the K-quant ones also accept w == nullptr,
//                                   which is a different search than *Ref (ggml never calls it so from
//                                   ggml_quantize_chunk, but its tests do).
//  Dequantize*(x, y, n):            ggml's dequantize_row_<type>.
#pragma once

#include <cstdint>

namespace quantlab::quant_internal {

// Legacy 32-element blocks (quantize_legacy.cc).
void QuantizeQ4_0Ref(const float* x, void* y, int64_t n);
void QuantizeQ4_1Ref(const float* x, void* y, int64_t n);
void QuantizeQ5_0Ref(const float* x, void* y, int64_t n);
void QuantizeQ5_1Ref(const float* x, void* y, int64_t n);
void QuantizeQ8_0Ref(const float* x, void* y, int64_t n);
void QuantizeQ8_1Ref(const float* x, void* y, int64_t n);
void QuantizeQ4_0Weighted(const float* x, void* y, int64_t n_per_row, const float* weights);
void QuantizeQ4_1Weighted(const float* x, void* y, int64_t n_per_row, const float* weights);
void QuantizeQ5_0Weighted(const float* x, void* y, int64_t n_per_row, const float* weights);
void QuantizeQ5_1Weighted(const float* x, void* y, int64_t n_per_row, const float* weights);

// Non-linear 4-bit, 32-element blocks (quantize_iq4_nl.cc).
void QuantizeIQ4_NLRef(const float* x, void* y, int64_t n);
void QuantizeIQ4_NLWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ4_NL(const void* x, float* y, int64_t n);

// Non-linear 4-bit, 256-element super-blocks with 6-bit block scales (quantize_iq4_xs.cc).
void QuantizeIQ4_XSRef(const float* x, void* y, int64_t n);
void QuantizeIQ4_XSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ4_XS(const void* x, float* y, int64_t n);

// 3-bit lattice i-quants, 256-element super-blocks (quantize_iq3.cc); the weighted ones accept
// importance == nullptr (then the same as *Ref).
void QuantizeIQ3_XXSRef(const float* x, void* y, int64_t n);
void QuantizeIQ3_XXSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ3_XXS(const void* x, float* y, int64_t n);
void QuantizeIQ3_SRef(const float* x, void* y, int64_t n);
void QuantizeIQ3_SWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ3_S(const void* x, float* y, int64_t n);

// 2-bit lattice i-quant, 256-element super-blocks (quantize_iq2_s.cc); importance may be nullptr.
void QuantizeIQ2_SRef(const float* x, void* y, int64_t n);
void QuantizeIQ2_SWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ2_S(const void* x, float* y, int64_t n);

// 2-bit lattice i-quants with 7 signs per 8 elements, 256-element super-blocks (quantize_iq2_xxs_xs.cc).
// ggml has no reference quantizer for them: importance is required (QL_CHECK'ed).
void QuantizeIQ2_XXSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ2_XXS(const void* x, float* y, int64_t n);
void QuantizeIQ2_XSWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ2_XS(const void* x, float* y, int64_t n);
// 1-bit lattice i-quants, 256-element super-blocks (quantize_iq1.cc). IQ1_S needs importance weights
// (ggml has no quantizer without them); IQ1_M's *Ref is ggml's search with weights x^2.
void QuantizeIQ1_SWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ1_S(const void* x, float* y, int64_t n);
void QuantizeIQ1_MRef(const float* x, void* y, int64_t n);
void QuantizeIQ1_MWeighted(const float* x, void* y, int64_t n_per_row, const float* importance);
void DequantizeIQ1_M(const void* x, float* y, int64_t n);

// K-quants, 256-element super-blocks (quantize_k.cc, quantize_k_low.cc).
void QuantizeQ2_KRef(const float* x, void* y, int64_t n);
void QuantizeQ3_KRef(const float* x, void* y, int64_t n);
void QuantizeQ4_KRef(const float* x, void* y, int64_t n);
void QuantizeQ5_KRef(const float* x, void* y, int64_t n);
void QuantizeQ6_KRef(const float* x, void* y, int64_t n);
void QuantizeQ8_KRef(const float* x, void* y, int64_t n);
void QuantizeQ2_KWeighted(const float* x, void* y, int64_t n_per_row, const float* weights);  // w required
void QuantizeQ3_KWeighted(const float* x, void* y, int64_t n_per_row, const float* weights);
void QuantizeQ4_KWeighted(const float* x, void* y, int64_t n_per_row, const float* weights);
void QuantizeQ5_KWeighted(const float* x, void* y, int64_t n_per_row, const float* weights);
void QuantizeQ6_KWeighted(const float* x, void* y, int64_t n_per_row, const float* weights);

// Plain float formats (dequantize.cc).
void QuantizeF32(const float* x, void* y, int64_t n);
void QuantizeF16(const float* x, void* y, int64_t n);
void QuantizeBF16(const float* x, void* y, int64_t n);

// dequantize.cc
void DequantizeF32(const void* x, float* y, int64_t n);
void DequantizeF16(const void* x, float* y, int64_t n);
void DequantizeBF16(const void* x, float* y, int64_t n);
void DequantizeQ4_0(const void* x, float* y, int64_t n);
void DequantizeQ4_1(const void* x, float* y, int64_t n);
void DequantizeQ5_0(const void* x, float* y, int64_t n);
void DequantizeQ5_1(const void* x, float* y, int64_t n);
void DequantizeQ8_0(const void* x, float* y, int64_t n);
void DequantizeQ8_1(const void* x, float* y, int64_t n);
void DequantizeQ2_K(const void* x, float* y, int64_t n);
void DequantizeQ3_K(const void* x, float* y, int64_t n);
void DequantizeQ4_K(const void* x, float* y, int64_t n);
void DequantizeQ5_K(const void* x, float* y, int64_t n);
void DequantizeQ6_K(const void* x, float* y, int64_t n);
void DequantizeQ8_K(const void* x, float* y, int64_t n);

}  // namespace quantlab::quant_internal
