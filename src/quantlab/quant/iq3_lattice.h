// The search structures of ggml's 3-bit i-quant quantizers (iq3xs_init_impl in ggml-quants.c), built
// once per grid on first use (thread-safe). Internal to the quant layer.
//
// Every 4-element group of levels l in [0, 7]^4 has a 12-bit code (iq3_grids.h). For a code on the grid,
// `IndexOf` gives its grid index; for one off the grid, the candidates the quantizer tries instead: all
// grid points at the smallest (IQ3_XXS: two, IQ3_S: three) squared distances from it, closest first
// (ties by grid index).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace quantlab::quant_internal {

class Iq3Lattice {
 public:
  // The 256-point IQ3_XXS lattice and the 512-point IQ3_S one.
  static const Iq3Lattice& Xxs();
  static const Iq3Lattice& S();

  // The grid index of `code`, or -1 when the code is not a grid point.
  int IndexOf(uint16_t code) const { return map_[code] >= 0 ? map_[code] : -1; }
  // The neighbours of an off-grid code (IndexOf(code) < 0).
  std::span<const uint16_t> NeighboursOf(uint16_t code) const;
  // Element i (0..3) of grid point `index`, as the search values it: 2 l + 1.
  int Value(int index, int i) const { return static_cast<int8_t>(grid_[index] >> 8 * i); }

  // Among the neighbours of `code`, the grid point closest to `x` at `scale` by sum w (scale q - x)^2
  // (the first on ties); writes its levels to `levels` and returns its index. ggml's
  // iq3_find_best_neighbour, with its float arithmetic (where ggml aborts, when no distance is below
  // FLT_MAX, the first neighbour).
  int BestNeighbour(uint16_t code, const float* x, const float* w, float scale, int8_t* levels) const;

 private:
  Iq3Lattice(std::span<const uint32_t> grid, int n_distances);

  std::span<const uint32_t> grid_;
  std::vector<int> map_;              // code -> grid index, or -(offset of its neighbour list + 1)
  std::vector<uint16_t> neighbours_;  // per off-grid code: count, then the grid indices
};

}  // namespace quantlab::quant_internal
