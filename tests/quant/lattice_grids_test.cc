// The lattice i-quant tables derived from ggml's grid codes (iq3_grids.h, iq2_grids.h, iq1_grids.h) against
// entries of ggml-common.h's dequantization tables (c392e509), and the search lattices' structure.
#include <gtest/gtest.h>

#include "quantlab/quant/grid_lattice.h"
#include "quantlab/quant/iq1_grids.h"
#include "quantlab/quant/iq2_grids.h"
#include "quantlab/quant/iq3_grids.h"

namespace quantlab {
namespace {

using quant_internal::GridLattice;

TEST(LatticeGrids, DequantizationTablesAreGgmls) {
  // iq3xxs_grid
  EXPECT_EQ(iq3::kXxsGrid[0], 0x04040404u);
  EXPECT_EQ(iq3::kXxsGrid[1], 0x04040414u);
  EXPECT_EQ(iq3::kXxsGrid[77], 0x0c140c14u);
  EXPECT_EQ(iq3::kXxsGrid[131], 0x14242c1cu);
  EXPECT_EQ(iq3::kXxsGrid[255], 0x3e341c04u);
  // iq3s_grid
  EXPECT_EQ(iq3::kSGrid[0], 0x01010101u);
  EXPECT_EQ(iq3::kSGrid[1], 0x01010103u);
  EXPECT_EQ(iq3::kSGrid[77], 0x01090509u);
  EXPECT_EQ(iq3::kSGrid[259], 0x05090903u);
  EXPECT_EQ(iq3::kSGrid[511], 0x0f0f0101u);
  // iq2xxs_grid
  EXPECT_EQ(iq2::kXxsGrid[0], 0x0808080808080808ull);
  EXPECT_EQ(iq2::kXxsGrid[1], 0x080808080808082bull);
  EXPECT_EQ(iq2::kXxsGrid[77], 0x08190808192b0808ull);
  EXPECT_EQ(iq2::kXxsGrid[131], 0x082b2b2b19081908ull);
  EXPECT_EQ(iq2::kXxsGrid[255], 0x2b2b2b1908081908ull);
  // iq2xs_grid
  EXPECT_EQ(iq2::kXsGrid[0], 0x0808080808080808ull);
  EXPECT_EQ(iq2::kXsGrid[1], 0x080808080808082bull);
  EXPECT_EQ(iq2::kXsGrid[77], 0x080819081908082bull);
  EXPECT_EQ(iq2::kXsGrid[259], 0x190808080819082bull);
  EXPECT_EQ(iq2::kXsGrid[511], 0x2b2b2b2b2b2b2b2bull);
  // iq2s_grid
  EXPECT_EQ(iq2::kSGrid[0], 0x0808080808080808ull);
  EXPECT_EQ(iq2::kSGrid[1], 0x080808080808082bull);
  EXPECT_EQ(iq2::kSGrid[77], 0x0808082b2b081919ull);
  EXPECT_EQ(iq2::kSGrid[515], 0x190808191908192bull);
  EXPECT_EQ(iq2::kSGrid[1023], 0x2b2b2b2b2b2b2b2bull);
  // iq1s_grid (all 2048 entries were compared with ggml-common.h's when the codes were taken)
  EXPECT_EQ(iq1::kGrid[0], 0xffffffffffffffffull);
  EXPECT_EQ(iq1::kGrid[1], 0xffffffffffffff01ull);
  EXPECT_EQ(iq1::kGrid[77], 0xffff00ff00ffff00ull);
  EXPECT_EQ(iq1::kGrid[1029], 0x0000000000000000ull);
  EXPECT_EQ(iq1::kGrid[2047], 0x0101010101010101ull);
  EXPECT_EQ(iq1::GridValue(1, 0), 1);
  EXPECT_EQ(iq1::GridValue(77, 0), 0);
  EXPECT_EQ(iq1::GridValue(77, 1), -1);
  // ksigns_iq2xs: the eighth bit makes the parity even.
  EXPECT_EQ(iq3::kSignsFromSeven[0], 0);
  EXPECT_EQ(iq3::kSignsFromSeven[1], 129);
  EXPECT_EQ(iq3::kSignsFromSeven[3], 3);
  EXPECT_EQ(iq3::kSignsFromSeven[77], 77);
  EXPECT_EQ(iq3::kSignsFromSeven[127], 255);
  EXPECT_EQ(iq3::kSignBytes[0b10000001], 0xff010101010101ffull);
}

// Every grid point is its own code's index; every other code has at least one neighbour, each a grid
// point.
TEST(LatticeGrids, SearchLatticesAreConsistent) {
  struct Case {
    const GridLattice& lattice;
    int n_grid;
    int n_codes;
  };
  for (const Case& c : {Case{GridLattice::Iq3Xxs(), 256, 4096}, Case{GridLattice::Iq3S(), 512, 4096},
                        Case{GridLattice::Iq2Xxs(), 256, 43692}, Case{GridLattice::Iq2Xs(), 512, 43692},
                        Case{GridLattice::Iq2S(), 1024, 43692}, Case{GridLattice::Iq1(), 2048, 43692}}) {
    int on_grid = 0;
    for (uint32_t code = 0; code < static_cast<uint32_t>(c.n_codes); ++code) {
      const int index = c.lattice.IndexOf(code);
      if (index >= 0) {
        ++on_grid;
        int8_t levels[8];
        for (int i = 0; i < c.lattice.elements(); ++i)
          levels[i] = static_cast<int8_t>((c.lattice.Value(index, i) - 1) / 2);
        ASSERT_EQ(c.lattice.CodeOf(levels), code);
        continue;
      }
      const auto neighbours = c.lattice.NeighboursOf(code);
      ASSERT_FALSE(neighbours.empty()) << code;
      for (const uint16_t k : neighbours) ASSERT_LT(k, c.n_grid);
    }
    EXPECT_EQ(on_grid, c.n_grid);
  }
}

}  // namespace
}  // namespace quantlab
