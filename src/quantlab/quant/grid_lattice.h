// The search structures of ggml's lattice i-quant quantizers (iq3xs_init_impl and iq2xs_init_impl in
// ggml-quants.c), built once per grid on first use (thread-safe). Internal to the quant layer.
//
// A group of n elements (4 for IQ3, 8 for IQ2) of levels l in [0, 2^bits) has a code, l_i at bits
// [bits i, bits (i + 1)). For a code on the grid, `IndexOf` gives its grid index; for one off the grid,
// the candidates the quantizer tries instead: all grid points at the smallest squared distances from it
// (IQ3_XXS, IQ2_XXS, IQ2_XS: two distances, IQ3_S and IQ1: three, IQ2_S: one), closest first, ties by
// grid index.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace quantlab::quant_internal {

class GridLattice {
 public:
  static const GridLattice& Iq3Xxs();  // 256 points of 4 x 3 bits
  static const GridLattice& Iq3S();    // 512 points of 4 x 3 bits
  static const GridLattice& Iq2Xxs();  // 256 points of 8 x 2 bits
  static const GridLattice& Iq2Xs();   // 512 points of 8 x 2 bits
  static const GridLattice& Iq2S();    // 1024 points of 8 x 2 bits
  static const GridLattice& Iq1();     // 2048 points of 8 x 2 bits (IQ1_S and IQ1_M)

  int elements() const { return elements_; }
  // The grid index of `code`, or -1 when the code is not a grid point.
  int IndexOf(uint32_t code) const { return map_[code] >= 0 ? map_[code] : -1; }
  // The neighbours of an off-grid code (IndexOf(code) < 0).
  std::span<const uint16_t> NeighboursOf(uint32_t code) const;
  // Element i of grid point `index`, as the search values it: 2 l + 1.
  int Value(int index, int i) const { return values_[static_cast<size_t>(index) * elements_ + i]; }
  // The code of a group of levels.
  uint32_t CodeOf(const int8_t* levels) const;

  // Among the neighbours of `code`, the grid point closest to `x` at `scale` by sum w (scale q - x)^2
  // (the first on ties); writes its levels to `levels` and returns its index. ggml's
  // iq3_find_best_neighbour / iq2_find_best_neighbour, with their float arithmetic (where ggml aborts,
  // when no distance is below FLT_MAX, the first neighbour).
  int BestNeighbour(uint32_t code, const float* x, const float* w, float scale, int8_t* levels) const;

 private:
  GridLattice(std::span<const uint16_t> codes, int elements, int bits, int n_codes, int n_distances);

  int elements_;
  int bits_;
  std::vector<int8_t> values_;        // grid points, 2 l + 1 per element
  std::vector<int> map_;              // code -> grid index, or -(offset of its neighbour list + 1)
  std::vector<uint16_t> neighbours_;  // per off-grid code: count, then the grid indices
};

}  // namespace quantlab::quant_internal
