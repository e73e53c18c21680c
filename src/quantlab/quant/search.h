// The scale searches shared by ggml's quantizers (ggml-quants.c). They are written to reproduce ggml's
// results bit for bit, so the float arithmetic keeps ggml's order of operations and precision exactly:
// single-precision accumulators, the same association ((w * x) * l, not w * (x * l)), the same rounding
// helper. Do not "simplify" an expression here without re-running the golden tests.
//
// Internal to the quant layer.
#pragma once

#include <cstdint>
#include <cstring>

namespace quantlab::quant_internal {

// Rounds to the nearest integer, ties to even, for |value| <= 2^22 - 1: adding 1.5 * 2^23 pushes the
// integer part into the low mantissa bits, which are then read back. This is ggml's nearest_int; it is
// used instead of lrintf/roundf because the tie behaviour differs from roundf's, and the results must
// match. Outside that range the result is meaningless but deterministic (as in ggml).
inline int NearestInt(float value) {
  const float shifted = value + 12582912.0f;  // 1.5 * 2^23
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// Threshold below which a group's max |x| counts as all zero (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// Symmetric quantization of n values to levels L[i] in [0, 2*nmax) (stored with an offset of nmax),
// x ~ scale * (L[i] - nmax). Returns the scale. ggml's make_qx_quants.
//  rmse_type 0: plain rounding with iscale = -nmax / max, no refinement.
//  rmse_type 1..4 (negative: stop after the first least-squares fit): weights are `weights` when given,
//  else x^2 (1), 1 (2), |x| (3), sqrt|x| (4); then 18 nearby scales (nmax +- 0.1 * k) are tried and the
//  one with the best weighted fit kept.
float SearchSymmetricScale(int n, int nmax, const float* x, int8_t* levels, int rmse_type,
                           const float* weights);

// Q3_K's symmetric search (ggml's make_q3_quants): initial rounding, then up to 5 passes of
// per-element level changes that improve the x^2-weighted fit when do_rmse. Levels offset by nmax.
float SearchSymmetricScaleIterative(int n, int nmax, const float* x, int8_t* levels, bool do_rmse);

// Asymmetric (scale, min) search with x ~ scale * L - min, L in [0, nmax] (ggml's make_qkx2_quants when
// weights are always given). Tries nstep + 1 scales (rmin + rdelta * k + nmax) / (max - min), each
// followed by a weighted least-squares fit of scale and min; keeps the best by weighted absolute
// (use_mad) or squared error. Writes -min (>= 0) to *neg_min. `scratch` holds n bytes.
float SearchScaleMin(int n, int nmax, const float* x, const float* weights, uint8_t* levels, float* neg_min,
                     uint8_t* scratch, float rmin, float rdelta, int nstep, bool use_mad);

// As SearchScaleMin, but weights may be null (then x^2) and a group with max <= min yields zeros
// (ggml's make_qkx3_quants).
float SearchScaleMinWeighted(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                             float* neg_min, uint8_t* scratch, float rmin, float rdelta, int nstep,
                             bool use_mad);

// Quantizes non-negative values (sub-block scales or mins) to L in [0, nmax] with one scale, searching
// 8 nearby scales and then refining single levels with the weights (ggml's make_qp_quants).
float SearchPositiveScale(int n, int nmax, const float* x, uint8_t* levels, const float* weights);

}  // namespace quantlab::quant_internal
