#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

#include "quantlab/quant/search.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace quantlab::quant_internal {
namespace {

// Weight of element x for the built-in weighting schemes of SearchSymmetricScale.
inline float BuiltinWeight(int rmse_type, float x) {
  switch (rmse_type) {
    case 1:
      return x * x;
    case 2:
      return 1;
    case 3:
      return std::fabs(x);
    default:
      return std::sqrt(std::fabs(x));
  }
}

inline int ClampSigned(int l, int nmax) { return std::max(-nmax, std::min(nmax - 1, l)); }
inline int ClampUnsigned(int l, int nmax) { return std::max(0, std::min(nmax, l)); }

}  // namespace

float SearchSymmetricScale(int n, int nmax, const float* x, int8_t* levels, int rmse_type,
                           const float* weights) {
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
  float iscale = -nmax / max;
  if (rmse_type == 0) {
    for (int i = 0; i < n; ++i) {
      levels[i] = static_cast<int8_t>(nmax + ClampSigned(NearestInt(iscale * x[i]), nmax));
    }
    return 1 / iscale;
  }
  const bool fit_once = rmse_type < 0;
  if (fit_once) rmse_type = -rmse_type;

  auto weight_of = [&](int i) { return weights ? weights[i] : BuiltinWeight(rmse_type, x[i]); };

  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = ClampSigned(NearestInt(iscale * x[i]), nmax);
    levels[i] = static_cast<int8_t>(l + nmax);
    const float w = weight_of(i);
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  if (fit_once) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;

  // best = scale * sumlx is the fit quality (sumlx^2 / suml2); a candidate wins when its own
  // sumlx^2 / suml2 is larger, compared without dividing.
  float best = scale * sumlx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale = -(nmax + 0.1f * step) / max;
    sumlx = 0;
    suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = ClampSigned(NearestInt(iscale * x[i]), nmax);
      const float w = weight_of(i);
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        levels[i] = static_cast<int8_t>(nmax + ClampSigned(NearestInt(iscale * x[i]), nmax));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float SearchSymmetricScaleIterative(int n, int nmax, const float* x, int8_t* levels, bool do_rmse) {
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

namespace {

// The part SearchScaleMin and SearchScaleMinWeighted share once min, max, sum_w, sum_x are known
// (min already clamped to <= 0 and max > min). Weights are given by `weight_of(i)`.
template <typename WeightOf>
float RefineScaleMin(int n, int nmax, const float* x, WeightOf weight_of, uint8_t* levels, float* neg_min,
                     uint8_t* scratch, float rmin, float rdelta, int nstep, bool use_mad, float min,
                     float max, float sum_w, float sum_x) {
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    levels[i] = static_cast<uint8_t>(ClampUnsigned(NearestInt(iscale * (x[i] - min)), nmax));
    float diff = scale * levels[i] + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    const float w = weight_of(i);
    best_error += w * diff;
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
      const float w = weight_of(i);
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
        float diff = this_scale * scratch[i] + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        const float w = weight_of(i);
        error += w * diff;
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

}  // namespace

float SearchScaleMin(int n, int nmax, const float* x, const float* weights, uint8_t* levels, float* neg_min,
                     uint8_t* scratch, float rmin, float rdelta, int nstep, bool use_mad) {
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
  return RefineScaleMin(
      n, nmax, x, [weights](int i) { return weights[i]; }, levels, neg_min, scratch, rmin, rdelta, nstep,
      use_mad, min, max, sum_w, sum_x);
}

float SearchScaleMinWeighted(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                             float* neg_min, uint8_t* scratch, float rmin, float rdelta, int nstep,
                             bool use_mad) {
  auto weight_of = [weights, x](int i) { return weights ? weights[i] : x[i] * x[i]; };
  float min = x[0];
  float max = x[0];
  float sum_w = weight_of(0);
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weight_of(i);
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max <= min) {
    std::memset(levels, 0, n);
    *neg_min = -min;
    return 0.f;
  }
  return RefineScaleMin(n, nmax, x, weight_of, levels, neg_min, scratch, rmin, rdelta, nstep, use_mad, min,
                        max, sum_w, sum_x);
}

float SearchPositiveScale(int n, int nmax, const float* x, uint8_t* levels, const float* weights) {
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
