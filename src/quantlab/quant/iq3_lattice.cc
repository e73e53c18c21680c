#include "quantlab/quant/fp_contract.h"
// (fp_contract.h first: BestNeighbour's sums must round as ggml's do.)

#include "quantlab/quant/iq3_lattice.h"

#include <algorithm>
#include <cfloat>
#include <utility>

#include "quantlab/quant/iq3_grids.h"
#include "quantlab/util/check.h"

namespace quantlab::quant_internal {
namespace {

constexpr int kCodes = 4096;  // 4 elements x 3 bits

}  // namespace

Iq3Lattice::Iq3Lattice(std::span<const uint32_t> grid, int n_distances) : grid_(grid), map_(kCodes, -1) {
  const auto n_grid = static_cast<int>(grid.size());
  for (int k = 0; k < n_grid; ++k) {
    uint16_t code = 0;
    for (int i = 0; i < 4; ++i) code |= static_cast<uint16_t>(((Value(k, i) - 1) / 2) << 3 * i);
    map_[code] = k;
  }
  std::vector<std::pair<int, int>> by_distance(n_grid);  // (squared distance, grid index)
  for (int code = 0; code < kCodes; ++code) {
    if (map_[code] >= 0) continue;
    for (int k = 0; k < n_grid; ++k) {
      int d2 = 0;
      for (int i = 0; i < 4; ++i) {
        const int diff = Value(k, i) - (2 * ((code >> 3 * i) & 7) + 1);
        d2 += diff * diff;
      }
      by_distance[k] = {d2, k};
    }
    std::sort(by_distance.begin(), by_distance.end());
    map_[code] = -(static_cast<int>(neighbours_.size()) + 1);
    const size_t count_at = neighbours_.size();
    neighbours_.push_back(0);
    int distances = 1;
    int d2 = by_distance[0].first;
    for (const auto& [dist, k] : by_distance) {
      if (dist > d2) {
        if (distances == n_distances) break;
        d2 = dist;
        ++distances;
      }
      neighbours_.push_back(static_cast<uint16_t>(k));
    }
    neighbours_[count_at] = static_cast<uint16_t>(neighbours_.size() - count_at - 1);
  }
}

const Iq3Lattice& Iq3Lattice::Xxs() {
  static const Iq3Lattice lattice(iq3::kXxsSearchGrid, 2);
  return lattice;
}

const Iq3Lattice& Iq3Lattice::S() {
  static const Iq3Lattice lattice(iq3::kSGrid, 3);
  return lattice;
}

std::span<const uint16_t> Iq3Lattice::NeighboursOf(uint16_t code) const {
  QL_CHECK(map_[code] < 0);
  const auto offset = static_cast<size_t>(-map_[code] - 1);
  return std::span<const uint16_t>(neighbours_).subspan(offset + 1, neighbours_[offset]);
}

int Iq3Lattice::BestNeighbour(uint16_t code, const float* x, const float* w, float scale,
                              int8_t* levels) const {
  float best_d2 = FLT_MAX;
  int best = -1;
  for (const uint16_t k : NeighboursOf(code)) {
    float d2 = 0;
    for (int i = 0; i < 4; ++i) {
      const float diff = scale * static_cast<float>(Value(k, i)) - x[i];
      d2 += w[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      best = k;
    }
  }
  // No candidate compares below FLT_MAX only when the weights overflow (x^2 beyond the float range);
  // ggml aborts there, quantlab takes the first neighbour.
  if (best < 0) best = NeighboursOf(code)[0];
  for (int i = 0; i < 4; ++i) levels[i] = static_cast<int8_t>((Value(best, i) - 1) / 2);
  return best;
}

}  // namespace quantlab::quant_internal
