#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: BestNeighbour's sums must round as ggml's do.)

#include "quantlab/quant/grid_lattice.h"

#include <algorithm>
#include <cfloat>
#include <utility>

#include "quantlab/quant/iq1_grids.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq3_grids.h"
#include "quantlab/util/check.h"

namespace quantlab::quant_internal {

GridLattice::GridLattice(std::span<const uint16_t> codes, int elements, int bits, int n_codes,
                         int n_distances)
    : elements_(elements), bits_(bits), values_(codes.size() * elements), map_(n_codes, -1) {
  const auto n_grid = static_cast<int>(codes.size());
  const int mask = (1 << bits) - 1;
  for (int k = 0; k < n_grid; ++k) {
    for (int i = 0; i < elements; ++i)
      values_[k * elements + i] = static_cast<int8_t>(2 * ((codes[k] >> bits * i) & mask) + 1);
    map_[codes[k]] = k;
  }
  // ggml sorts all grid points by (distance, index) and keeps those within the n_distances smallest
  // distinct distances; the same list, found with one pass for the distances and a sort of the few kept.
  std::vector<int> dist2(n_grid);
  std::vector<std::pair<int, int>> kept;  // (squared distance, grid index)
  for (int code = 0; code < n_codes; ++code) {
    if (map_[code] >= 0) continue;
    std::vector<int> smallest;  // the n_distances smallest distinct distances, ascending
    for (int k = 0; k < n_grid; ++k) {
      int d2 = 0;
      for (int i = 0; i < elements; ++i) {
        const int diff = Value(k, i) - (2 * ((code >> bits * i) & mask) + 1);
        d2 += diff * diff;
      }
      dist2[k] = d2;
      const auto at = std::lower_bound(smallest.begin(), smallest.end(), d2);
      if (at != smallest.end() && *at == d2) continue;
      if (static_cast<int>(smallest.size()) < n_distances) {
        smallest.insert(at, d2);
      } else if (at != smallest.end()) {
        smallest.insert(at, d2);
        smallest.pop_back();
      }
    }
    kept.clear();
    for (int k = 0; k < n_grid; ++k) {
      if (dist2[k] <= smallest.back()) kept.emplace_back(dist2[k], k);
    }
    std::sort(kept.begin(), kept.end());
    map_[code] = -(static_cast<int>(neighbours_.size()) + 1);
    neighbours_.push_back(static_cast<uint16_t>(kept.size()));
    for (const auto& [d2, k] : kept) neighbours_.push_back(static_cast<uint16_t>(k));
  }
}

const GridLattice& GridLattice::Iq3Xxs() {
  static const GridLattice lattice(iq3::kXxsGridCodes, 4, 3, 4096, 2);
  return lattice;
}

const GridLattice& GridLattice::Iq3S() {
  static const GridLattice lattice(iq3::kSGridCodes, 4, 3, 4096, 3);
  return lattice;
}

// ggml's maps for IQ2 cover the codes up to 43691 (levels 0..2 reach 43690): the search never forms a
// code with a level 3, but ggml computes neighbours for those below 43692 too.
const GridLattice& GridLattice::Iq2Xxs() {
  static const GridLattice lattice(iq2::kXxsGridCodes, 8, 2, 43692, 2);
  return lattice;
}

const GridLattice& GridLattice::Iq2Xs() {
  static const GridLattice lattice(iq2::kXsGridCodes, 8, 2, 43692, 2);
  return lattice;
}

const GridLattice& GridLattice::Iq2S() {
  static const GridLattice lattice(iq2::kSGridCodes, 8, 2, 43692, 1);
  return lattice;
}

// IQ1's codes use levels 0..2 as IQ2's do; ggml builds its map over the same 43692 codes.
const GridLattice& GridLattice::Iq1() {
  static const GridLattice lattice(iq1::kGridCodes, 8, 2, 43692, 3);
  return lattice;
}

uint32_t GridLattice::CodeOf(const int8_t* levels) const {
  uint32_t code = 0;
  for (int i = 0; i < elements_; ++i) code |= static_cast<uint32_t>(levels[i]) << bits_ * i;
  return code;
}

std::span<const uint16_t> GridLattice::NeighboursOf(uint32_t code) const {
  QL_CHECK(map_[code] < 0);
  const auto offset = static_cast<size_t>(-map_[code] - 1);
  return std::span<const uint16_t>(neighbours_).subspan(offset + 1, neighbours_[offset]);
}

int GridLattice::BestNeighbour(uint32_t code, const float* x, const float* w, float scale,
                               int8_t* levels) const {
  float best_d2 = FLT_MAX;
  int best = -1;
  for (const uint16_t k : NeighboursOf(code)) {
    float d2 = 0;
    for (int i = 0; i < elements_; ++i) {
      const float diff = scale * static_cast<float>(Value(k, i)) - x[i];
      d2 += w[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = k;
    }
  }
  if (best < 0) best = NeighboursOf(code)[0];
  for (int i = 0; i < elements_; ++i) levels[i] = static_cast<int8_t>((Value(best, i) - 1) / 2);
  return best;
}

}  // namespace quantlab::quant_internal
