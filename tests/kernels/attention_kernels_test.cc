// The grouped attention dots (attention_kernels.h) give, bit for bit, the F16 vec_dot of the same ISA
// for every vector of a group: sharing a cache row between vectors must not change any result.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "quantlab/kernels/attention_kernels.h"
#include "quantlab/kernels/kernels.h"
#include "quantlab/util/fp16.h"

namespace quantlab {
namespace {

std::vector<fp16_t> RandomHalves(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<fp16_t> h(n);
  for (fp16_t& v : h) v = Fp32ToFp16(dist(rng));
  return h;
}

std::vector<float> Widen(const std::vector<fp16_t>& h) {
  std::vector<float> f(h.size());
  std::transform(h.begin(), h.end(), f.begin(), Fp16ToFp32);
  return f;
}

TEST(AttentionKernels, ScoreRowsEqualVecDotForEveryGroupSize) {
  std::mt19937 rng(11);
  for (CpuIsa isa : SupportedIsas()) {
    const TypeKernels& f16 = *KernelsFor(GgmlType::kF16, isa);
    const AttentionKernels& dots = AttentionKernelsFor(isa);
    for (int64_t n : {8, 40, 64, 100, 128}) {
      const int64_t n_rows = 37;
      const size_t stride = static_cast<size_t>(n) + 24;  // rows of a wider KV row, as in the cache
      const std::vector<fp16_t> rows = RandomHalves(stride * n_rows, rng);
      for (int m = 1; m <= 6; ++m) {
        std::vector<std::vector<fp16_t>> halves;
        std::vector<std::vector<float>> floats;
        std::vector<const float*> vecs;
        for (int v = 0; v < m; ++v) {
          halves.push_back(RandomHalves(static_cast<size_t>(n), rng));
          floats.push_back(Widen(halves.back()));
        }
        for (const auto& f : floats) vecs.push_back(f.data());
        const size_t out_stride = n_rows + 3;
        std::vector<float> out(out_stride * m, -1.0f);
        dots.dot_rows(n, rows.data(), stride, n_rows, vecs.data(), m, out.data(), out_stride);
        for (int v = 0; v < m; ++v) {
          for (int64_t j = 0; j < n_rows; ++j) {
            ASSERT_EQ(out[v * out_stride + j], f16.vec_dot(n, rows.data() + j * stride, halves[v].data()))
                << IsaName(isa) << " n=" << n << " m=" << m << " vec " << v << " row " << j;
          }
        }
      }
    }
  }
}

TEST(AttentionKernels, WeightedValuesEqualVecDotAtEachVectorsOwnLength) {
  std::mt19937 rng(12);
  for (CpuIsa isa : SupportedIsas()) {
    const TypeKernels& f16 = *KernelsFor(GgmlType::kF16, isa);
    const AttentionKernels& dots = AttentionKernelsFor(isa);
    const std::vector<fp16_t> row = RandomHalves(300, rng);
    // Causal windows of consecutive tokens (one longer each), and lengths across the 32- and 8-element
    // step boundaries.
    const std::vector<std::vector<int64_t>> length_sets = {
        {1}, {31, 32, 33, 34}, {64, 65}, {7, 96, 200}, {250, 251, 252, 253, 254, 255}, {300, 1, 45, 128}};
    for (const auto& lengths : length_sets) {
      const int m = static_cast<int>(lengths.size());
      std::vector<std::vector<fp16_t>> halves;
      std::vector<std::vector<float>> floats;
      std::vector<const float*> vecs;
      for (int v = 0; v < m; ++v) {
        halves.push_back(RandomHalves(static_cast<size_t>(lengths[v]), rng));
        floats.push_back(Widen(halves.back()));
      }
      for (const auto& f : floats) vecs.push_back(f.data());
      std::vector<float> out(m, -1.0f);
      dots.dot_row_multi(row.data(), vecs.data(), lengths.data(), m, out.data());
      for (int v = 0; v < m; ++v) {
        EXPECT_EQ(out[v], f16.vec_dot(lengths[v], row.data(), halves[v].data()))
            << IsaName(isa) << " m=" << m << " length " << lengths[v];
      }
    }
  }
}

}  // namespace
}  // namespace quantlab
