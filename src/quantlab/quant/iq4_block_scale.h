// The scale search IQ4_NL and IQ4_XS share: ggml's quantize_row_iq4_nl_impl for one 32-element block.
#pragma once

namespace quantlab::quant_internal {

inline constexpr int kIq4BlockSize = 32;

// The weighted least-squares scale of one 32-element block onto IQ4_NL's 16 levels: start from the
// scale that maps the extreme element onto the table's end, try 15 nearby inverse scales, keep the one
// with the best fit. 0 for a block whose max |x| is below 1e-15. Compiled without FMA contraction
// (fp_contract.h), so it chooses what ggml's reference chooses, bit for bit.
float Iq4BlockScale(const float* x, const float* weight);

}  // namespace quantlab::quant_internal
