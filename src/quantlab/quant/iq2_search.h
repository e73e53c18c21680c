// The search the 2-bit lattice i-quants share (IQ2_XXS, IQ2_XS, IQ2_S): levels in [0, 2] per element,
// q = 2 l + 1, 8-element groups that must be points of a GridLattice. Include after fp_contract.h (the
// arithmetic must be ggml's, operation by operation).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "quantlab/quant/grid_lattice.h"
#include "quantlab/quant/search.h"

namespace quantlab::quant_internal::iq2_search {

constexpr int kMaxQ = 3;  // levels per element

// Levels round((id |x| - 1) / 2) in [0, 2] of one group; returns the group's lattice code.
inline uint32_t RoundGroup(const GridLattice& lattice, const float* xval, float id, int8_t* levels) {
  for (int i = 0; i < 8; ++i) {
    const int l = NearestInt(0.5f * (id * xval[i] - 1));
    levels[i] = static_cast<int8_t>(std::max(0, std::min(kMaxQ - 1, l)));
  }
  return lattice.CodeOf(levels);
}

// Rounds a group at `scale` (inverse `id`) and moves it onto the grid if it is not.
inline void RoundOntoGrid(const GridLattice& lattice, const float* xval, const float* waux, float id,
                          float scale, int8_t* levels) {
  const uint32_t code = RoundGroup(lattice, xval, id, levels);
  if (lattice.IndexOf(code) < 0) lattice.BestNeighbour(code, xval, waux, scale, levels);
}

// sum w |x| q and sum w q^2 over n elements.
template <int n>
void Fit(const float* weight, const float* xval, const int8_t* levels, float* sumqx, float* sumq2) {
  *sumqx = *sumq2 = 0;
  for (int i = 0; i < n; ++i) {
    const float w = weight[i];
    const auto q = static_cast<float>(2 * levels[i] + 1);
    *sumqx += w * xval[i] * q;
    *sumq2 += w * q * q;
  }
}

// The 16-element block search of IQ2_S and IQ2_XS: inverse scales id = (5 + 0.1 is) / max|x|, is in
// [-9, 9], off-grid groups replaced by their best neighbour at 1 / id, the weighted least-squares fit kept
// when it improves; then the best try's off-grid groups rounded again at the fitted scale and the scale
// refitted. `levels` keeps its value where every try is rejected (ggml carries it across blocks).
// Returns the scale (negative only in the case ggml guards against by flipping every sign).
inline float SearchBlock16(const GridLattice& lattice, const float* xval, const float* waux,
                           const float* weight, float max, int8_t* levels) {
  constexpr int kBlock = 16;
  float best = 0;
  float scale = max / (2 * kMaxQ - 1);
  bool on_grid[2] = {true, true};
  for (int is = -9; is <= 9; ++is) {
    const float id = (2 * kMaxQ - 1 + static_cast<float>(is) * 0.1f) / max;
    const float this_scale = 1 / id;
    int8_t laux[kBlock];
    bool on_grid_aux[2];
    for (int k = 0; k < 2; ++k) {
      const uint32_t code = RoundGroup(lattice, xval + 8 * k, id, laux + 8 * k);
      on_grid_aux[k] = lattice.IndexOf(code) >= 0;
      if (!on_grid_aux[k]) lattice.BestNeighbour(code, xval + 8 * k, waux + 8 * k, this_scale, laux + 8 * k);
    }
    float sumqx, sumq2;
    Fit<kBlock>(weight, xval, laux, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      scale = sumqx / sumq2;
      best = scale * sumqx;
      std::memcpy(levels, laux, sizeof(laux));
      on_grid[0] = on_grid_aux[0];
      on_grid[1] = on_grid_aux[1];
    }
  }
  if ((!on_grid[0] || !on_grid[1]) && scale > 0) {
    const float id = 1 / scale;
    for (int k = 0; k < 2; ++k) {
      if (!on_grid[k]) RoundOntoGrid(lattice, xval + 8 * k, waux + 8 * k, id, scale, levels + 8 * k);
    }
    float sumqx, sumq2;
    Fit<kBlock>(weight, xval, levels, &sumqx, &sumq2);
    if (sumq2 > 0) scale = sumqx / sumq2;
  }
  return scale;
}

}  // namespace quantlab::quant_internal::iq2_search
