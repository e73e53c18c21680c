// The scale searches shared by ggml's quantizers (ggml-quants.c). They are written to reproduce ggml's
// results bit for bit, so the float arithmetic keeps ggml's order of operations and precision exactly:
// single-precision accumulators, the same association ((w * x) * l, not w * (x * l)), the same rounding
// helper. Do not "simplify" an expression here without re-running the golden tests.
//
// The searches (ggml's names in brackets):
//   SearchSymmetricScale          [make_qx_quants]    x ~ d * (L - nmax), 18 candidate scales
//   SearchSymmetricScaleIterative [make_q3_quants]    Q3_K's, with per-element level refinement
//   SearchScaleMin                [make_qkx2_quants]  x ~ d * L - m, weighted least squares per step
//   SearchScaleMinWeighted        [make_qkx3_quants]  the same, weights optional (x^2)
//   SearchPositiveScale           [make_qp_quants]    sub-block scales/mins of the imatrix K-quants
//
// Internal to the quant layer. The definitions are templates on the group length n, in this header:
// ggml's versions are static functions that the compiler specialises for the constant group length
// (vectorising the element-wise work); with a run-time n the searches were up to 40% slower. Include
// fp_contract.h before this header.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "quantlab/util/check.h"

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

// (int32_t) roundf(value) without the libm call (which keeps the Q8 loops from vectorising): rounds half
// away from zero. Exact for every float: below 2^23 in magnitude the fraction value - trunc(value) is
// representable, so the comparison with 0.5 decides as roundf does; from 2^23 on (and for inf/NaN)
// roundf returns its argument, which is converted as is.
inline int32_t RoundHalfAwayFromZero(float value) {
  if (!(std::fabs(value) < 8388608.0f)) return static_cast<int32_t>(value);
  const int32_t t = static_cast<int32_t>(value);  // toward zero
  const float fraction = value - static_cast<float>(t);
  return t + (fraction >= 0.5f) - (fraction <= -0.5f);
}

// The searches are kept out of line, one instance per group length: inlined into the block loops they
// run markedly slower (register pressure), as out-of-line functions with a run-time length they lose the
// vectorised element-wise work. (ggml gets the same effect from its compiler's constant-propagated
// clones.)
#if defined(__GNUC__)
#define QL_SEARCH_FN [[gnu::noinline]] inline
#else
#define QL_SEARCH_FN inline
#endif

// Threshold below which a group's max |x| counts as all zero (ggml's GROUP_MAX_EPS).
inline constexpr float kGroupMaxEps = 1e-15f;

// The lattice i-quants store |x| on the grid and the signs apart, one bit per element of a group of 8.
// Writes |x| to xval8 and returns the sign bits; with `even_negatives` (the 7-sign formats: IQ3_XXS,
// IQ2_XXS, IQ2_XS store 7 bits and take the eighth as the parity) a group with an odd number of negatives
// has the sign of its element of least w x^2 flipped, that element then standing for -|x|, as ggml does.
inline uint8_t SplitSigns8(const float* x8, const float* w8, bool even_negatives, float* xval8) {
  int nflip = 0;
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    if (x8[i] >= 0) {
      xval8[i] = x8[i];
    } else {
      xval8[i] = -x8[i];
      ++nflip;
      s = static_cast<uint8_t>(s | (1 << i));
    }
  }
  if (even_negatives && nflip % 2 != 0) {
    int imin = 0;
    float min = w8[0] * x8[0] * x8[0];
    for (int i = 1; i < 8; ++i) {
      const float ax = w8[i] * x8[i] * x8[i];
      if (ax < min) {
        min = ax;
        imin = i;
      }
    }
    xval8[imin] = -xval8[imin];
    s = static_cast<uint8_t>(s ^ (1 << imin));
  }
  return s;
}

namespace search_detail {

// Written with conditional expressions (as ggml's MIN/MAX macros) rather than std::min/max, whose
// reference returns keep GCC from if-converting and vectorising the element loops.
inline int ClampSigned(int l, int nmax) {
  const int upper = nmax - 1 < l ? nmax - 1 : l;
  return -nmax > upper ? -nmax : upper;
}
inline int ClampUnsigned(int l, int nmax) {
  const int upper = nmax < l ? nmax : l;
  return 0 > upper ? 0 : upper;
}

// Longest group any ggml format searches over (32 in practice); bounds the stack buffers for the
// built-in weights.
constexpr int kMaxSearchLength = 256;

}  // namespace search_detail

using search_detail::ClampSigned;
using search_detail::ClampUnsigned;
using search_detail::kMaxSearchLength;

namespace search_detail {

// Element i's weight in SearchSymmetricScale: kind 0 takes the caller's weights, 1..4 are ggml's
// built-in rmse_type weightings (x^2, 1, |x|, sqrt|x|).
template <int kind>
inline float WeightAt(const float* __restrict x, const float* __restrict weights, int i) {
  if constexpr (kind == 0) return weights[i];
  if constexpr (kind == 1) return x[i] * x[i];
  if constexpr (kind == 2) return 1.0f;
  if constexpr (kind == 3) return std::fabs(x[i]);
  return std::sqrt(std::fabs(x[i]));
}

// SearchSymmetricScale once the weighting is fixed at compile time: a branch-free element loop is what
// lets the compiler vectorise it.
template <int n, int nmax, int kind>
inline float SymmetricScaleWithWeights(const float* __restrict x, int8_t* __restrict levels, bool fit_once,
                                       float max, const float* __restrict weights) {
  // w and w * x do not change between candidate scales: computed once (ggml evaluates w * x[i] * l as
  // (w * x[i]) * l, so precomputing the product gives the same floats).
  float w[n];
  float wx[n];
  for (int i = 0; i < n; ++i) {
    w[i] = WeightAt<kind>(x, weights, i);
    wx[i] = w[i] * x[i];
  }
  float iscale = -nmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampSigned(NearestInt(iscale * x[i]), nmax);
    levels[i] = static_cast<int8_t>(l + nmax);
    sumlx += wx[i] * l;
    suml2 += w[i] * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  if (fit_once) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;

  // The 18 candidate scales -(nmax +- 0.1 k) / max do not depend on each other (max is fixed), so their
  // sums are accumulated side by side: each candidate's sums still add the elements in order 0..n-1, so
  // every sum is bit-identical to ggml's one-candidate-at-a-time loop, but the independent chains run in
  // parallel instead of waiting on one another's additions. The choice below then walks the candidates
  // in ggml's order with ggml's comparison.
  constexpr int kCandidates = 18;
  float cand_iscale[kCandidates];
  for (int k = 0; k < kCandidates; ++k) {
    const int step = k < 9 ? k - 9 : k - 8;  // -9..-1, 1..9
    cand_iscale[k] = -(nmax + 0.1f * step) / max;
  }
  float cand_sumlx[kCandidates] = {};
  float cand_suml2[kCandidates] = {};
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < kCandidates; ++k) {
      const int l = ClampSigned(NearestInt(cand_iscale[k] * x[i]), nmax);
      cand_sumlx[k] += wx[i] * l;
      cand_suml2[k] += w[i] * l * l;
    }
  }
  // best = scale * sumlx is the fit quality (sumlx^2 / suml2); a candidate wins when its own
  // sumlx^2 / suml2 is larger, compared without dividing.
  float best = scale * sumlx;
  for (int k = 0; k < kCandidates; ++k) {
    sumlx = cand_sumlx[k];
    suml2 = cand_suml2[k];
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        levels[i] = static_cast<int8_t>(nmax + ClampSigned(NearestInt(cand_iscale[k] * x[i]), nmax));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

}  // namespace search_detail

// Symmetric quantization of n values to levels L in [0, 2 nmax) (stored with an offset of nmax),
// x ~ scale * (L - nmax); returns the scale.
//  rmse_type 0: plain rounding with iscale = -nmax / max, no refinement.
//  rmse_type 1..4 (negative: stop after the first least-squares fit): weights are `weights` when given,
//  else x^2 (1), 1 (2), |x| (3), sqrt|x| (4); then the scales -(nmax +- 0.1 k) / max, k = 1..9, are
//  tried and the best weighted fit kept.
template <int n, int nmax>
QL_SEARCH_FN float SearchSymmetricScale(const float* __restrict x, int8_t* __restrict levels, int rmse_type,
                                        const float* __restrict weights) {
  // The element of largest magnitude, with its sign: the scale is negative when it is positive, so the
  // extreme element always lands on the level -nmax, which the asymmetric range [-nmax, nmax) has.
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(levels, 0, n);
    return 0.f;
  }
  if (rmse_type == 0) {
    const float iscale = -nmax / max;
    for (int i = 0; i < n; ++i) {
      levels[i] = static_cast<int8_t>(nmax + ClampSigned(NearestInt(iscale * x[i]), nmax));
    }
    return 1 / iscale;
  }
  const bool fit_once = rmse_type < 0;
  if (fit_once) rmse_type = -rmse_type;
  using search_detail::SymmetricScaleWithWeights;
  if (weights) return SymmetricScaleWithWeights<n, nmax, 0>(x, levels, fit_once, max, weights);
  switch (rmse_type) {
    case 1:
      return SymmetricScaleWithWeights<n, nmax, 1>(x, levels, fit_once, max, nullptr);
    case 2:
      return SymmetricScaleWithWeights<n, nmax, 2>(x, levels, fit_once, max, nullptr);
    case 3:
      return SymmetricScaleWithWeights<n, nmax, 3>(x, levels, fit_once, max, nullptr);
    default:
      return SymmetricScaleWithWeights<n, nmax, 4>(x, levels, fit_once, max, nullptr);
  }
}

// Q3_K's symmetric search: initial rounding, then (do_rmse) up to 5 passes of single-level changes
// that improve the x^2-weighted fit. Levels offset by nmax.
template <int n>
QL_SEARCH_FN float SearchSymmetricScaleIterative(int nmax, const float* __restrict x,
                                                 int8_t* __restrict levels, bool do_rmse) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(levels, 0, n);
    return 0.f;
  }
  const float iscale = -nmax / max;
  if (!do_rmse) {
    for (int i = 0; i < n; ++i) {
      levels[i] = static_cast<int8_t>(ClampSigned(NearestInt(iscale * x[i]), nmax) + nmax);
    }
    return 1 / iscale;
  }
  // Levels are kept signed during the refinement and shifted by nmax at the end.
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampSigned(NearestInt(iscale * x[i]), nmax);
    levels[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      // Sums without element i; its best level for the scale they imply is x * sl2 / slx.
      float slx = sumlx - w * x[i] * levels[i];
      if (slx > 0) {
        float sl2 = suml2 - w * levels[i] * levels[i];
        const int new_l = ClampSigned(NearestInt(x[i] * sl2 / slx), nmax);
        if (new_l != levels[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            levels[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) levels[i] = static_cast<int8_t>(levels[i] + nmax);
  return sumlx / suml2;
}

namespace search_detail {

// The part SearchScaleMin and SearchScaleMinWeighted share once min, max, sum_w, sum_x are known
// (min already clamped to <= 0 and max > min). The error measure is a template parameter so the inner
// loops carry no branch for it.
template <int n, bool kUseMad>
QL_SEARCH_FN float RefineScaleMin(int nmax, const float* __restrict x, const float* __restrict weights,
                                  uint8_t* __restrict levels, float* __restrict neg_min,
                                  uint8_t* __restrict scratch, float rmin, float rdelta, int nstep, float min,
                                  float max, float sum_w, float sum_x) {
  auto error_of = [](float diff) { return kUseMad ? std::fabs(diff) : diff * diff; };
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    levels[i] = static_cast<uint8_t>(ClampUnsigned(NearestInt(iscale * (x[i] - min)), nmax));
    const float diff = scale * levels[i] + min - x[i];
    best_error += weights[i] * error_of(diff);
  }
  if (nstep < 1) {
    *neg_min = -min;
    return scale;
  }
  for (int step = 0; step <= nstep; ++step) {
    iscale = (rmin + rdelta * step + nmax) / (max - min);
    float sum_l = 0;
    float sum_l2 = 0;
    float sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = ClampUnsigned(NearestInt(iscale * (x[i] - min)), nmax);
      scratch[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    // Weighted least squares for x ~ scale * l + min over these levels.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
      if (this_min > 0) {
        // A positive offset is not representable (the format subtracts the min): fit the scale alone.
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * scratch[i] + this_min - x[i];
        error += weights[i] * error_of(diff);
      }
      if (error < best_error) {
        std::memcpy(levels, scratch, n);
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

template <int n>
QL_SEARCH_FN float RefineScaleMin(bool use_mad, int nmax, const float* __restrict x,
                                  const float* __restrict weights, uint8_t* __restrict levels,
                                  float* __restrict neg_min, uint8_t* __restrict scratch, float rmin,
                                  float rdelta, int nstep, float min, float max, float sum_w, float sum_x) {
  return use_mad ? RefineScaleMin<n, true>(nmax, x, weights, levels, neg_min, scratch, rmin, rdelta, nstep,
                                           min, max, sum_w, sum_x)
                 : RefineScaleMin<n, false>(nmax, x, weights, levels, neg_min, scratch, rmin, rdelta, nstep,
                                            min, max, sum_w, sum_x);
}

}  // namespace search_detail

// Asymmetric (scale, min) search, x ~ scale * L - min with L in [0, nmax] and weights required. Tries
// the nstep + 1 scales (rmin + rdelta k + nmax) / (max - min), each followed by a weighted least-squares
// fit of scale and min, and keeps the best by weighted absolute (use_mad) or squared error. Writes
// -min (>= 0) to *neg_min; `scratch` holds n bytes.
template <int n>
QL_SEARCH_FN float SearchScaleMin(int nmax, const float* __restrict x, const float* __restrict weights,
                                  uint8_t* __restrict levels, float* __restrict neg_min,
                                  uint8_t* __restrict scratch, float rmin, float rdelta, int nstep,
                                  bool use_mad) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::memset(levels, 0, n);
    *neg_min = -min;
    return 0.f;
  }
  return search_detail::RefineScaleMin<n>(use_mad, nmax, x, weights, levels, neg_min, scratch, rmin, rdelta,
                                          nstep, min, max, sum_w, sum_x);
}

// As SearchScaleMin, but weights may be null (then x^2) and a group with max <= min gives zeros.
template <int n>
QL_SEARCH_FN float SearchScaleMinWeighted(int nmax, const float* __restrict x,
                                          const float* __restrict weights, uint8_t* __restrict levels,
                                          float* __restrict neg_min, uint8_t* __restrict scratch, float rmin,
                                          float rdelta, int nstep, bool use_mad) {
  if (!weights) {
    // Default weights x^2, computed once (the same float values ggml recomputes in every loop).
    QL_CHECK_MSG(n >= 1 && n <= kMaxSearchLength, "SearchScaleMinWeighted: bad group length");
    float squares[kMaxSearchLength];
    for (int i = 0; i < n; ++i) squares[i] = x[i] * x[i];
    return SearchScaleMinWeighted<n>(nmax, x, squares, levels, neg_min, scratch, rmin, rdelta, nstep,
                                     use_mad);
  }
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max <= min) {
    std::memset(levels, 0, n);
    *neg_min = -min;
    return 0.f;
  }
  return search_detail::RefineScaleMin<n>(use_mad, nmax, x, weights, levels, neg_min, scratch, rmin, rdelta,
                                          nstep, min, max, sum_w, sum_x);
}

// Quantizes n non-negative values (sub-block scales or mins) to L in [0, nmax] with one scale: the
// best of 9 nearby scales, then up to 5 passes of weighted single-level refinement.
template <int n>
QL_SEARCH_FN float SearchPositiveScale(int nmax, const float* __restrict x, uint8_t* __restrict levels,
                                       const float* __restrict weights) {
  float max = 0;
  // Written as ggml's MAX macro (not std::max) so -0.0f and NaN pick the same operand.
  for (int i = 0; i < n; ++i) max = max > x[i] ? max : x[i];
  if (!max) {
    std::memset(levels, 0, n);
    return 0.f;
  }
  float iscale = nmax / max;
  for (int i = 0; i < n; ++i) levels[i] = static_cast<uint8_t>(NearestInt(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * levels[i];
    const float w = weights[i];
    best_mse += w * diff * diff;
  }
  for (int step = -4; step <= 4; ++step) {
    if (step == 0) continue;
    const float iscale_step = (0.1f * step + nmax) / max;
    const float scale_step = 1 / iscale_step;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, NearestInt(iscale_step * x[i]));
      const float diff = x[i] - scale_step * l;
      const float w = weights[i];
      mse += w * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_step;
    }
  }
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, NearestInt(iscale * x[i]));
    levels[i] = static_cast<uint8_t>(l);
    const float w = weights[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = weights[i];
      float slx = sumlx - w * x[i] * levels[i];
      float sl2 = suml2 - w * levels[i] * levels[i];
      if (slx > 0 && sl2 > 0) {
        const int new_l = std::min(nmax, NearestInt(x[i] * sl2 / slx));
        if (new_l != levels[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            levels[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed) break;
  }
  return sumlx / suml2;
}

}  // namespace quantlab::quant_internal
