#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: it must govern every function of this file.)

#include "quantlab/quant/iq4_block_scale.h"

#include <cmath>

#include "quantlab/quant/blocks.h"

namespace quantlab::quant_internal {
namespace {

constexpr int kTries = 7;               // inverse scales tried on each side of the start
constexpr float kGroupMaxEps = 1e-15f;  // blocks with max |x| below this get scale 0

}  // namespace

float Iq4BlockScale(const float* x, const float* weight) {
  float amax = 0, max = 0;
  for (int j = 0; j < kIq4BlockSize; ++j) {
    const float ax = std::fabs(x[j]);
    if (ax > amax) {
      amax = ax;
      max = x[j];
    }
  }
  if (amax < kGroupMaxEps) return 0;
  // Fit of sum w q x / sum w q^2 for the levels chosen at inverse scale `id`.
  auto fit = [&](float id, float* sumqx, float* sumq2) {
    *sumqx = *sumq2 = 0;
    for (int j = 0; j < kIq4BlockSize; ++j) {
      const float q = kIq4nlValues[NearestIq4nlLevel(id * x[j])];
      *sumqx += weight[j] * q * x[j];
      *sumq2 += weight[j] * q * q;
    }
  };
  float sumqx, sumq2;
  fit(1 / (-max / kIq4nlValues[0]), &sumqx, &sumq2);
  float d = sumqx / sumq2;
  float best = d * sumqx;
  for (int itry = -kTries; itry <= kTries; ++itry) {
    fit((itry + kIq4nlValues[0]) / max, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

}  // namespace quantlab::quant_internal
