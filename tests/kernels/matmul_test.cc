// MatMulRows against a naive loop of scalar dot products: every weight type, every supported ISA, token
// counts around the tile sizes, row ranges that start and end off tile boundaries, strided rows.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernels/kernel_test_util.h"
#include "quantlab/kernels/matmul.h"
#include "quantlab/kernels/registry.h"

namespace quantlab {
namespace {

using testing::AbsDotMagnitude;
using testing::DotTypes;
using testing::RandomFloats;
using testing::RandomWeightRow;

struct Problem {
  GgmlType type;
  int64_t n_rows, n_cols, n_tokens;
  size_t weight_stride, act_stride;
  std::vector<uint8_t> weights, act;
};

// n_cols = n_blocks blocks (of 32 elements for the float types), or exactly `n_cols` if given.
Problem MakeProblem(GgmlType type, int64_t n_rows, int64_t n_blocks, int64_t n_tokens, std::mt19937& rng,
                    int64_t n_cols = 0) {
  Problem p;
  p.type = type;
  p.n_rows = n_rows;
  p.n_cols = n_cols > 0 ? n_cols : n_blocks * std::max<int64_t>(TypeInfo(type).block_size, 32);
  p.n_tokens = n_tokens;
  // Padding between rows so strides are not equal to the row size (as in a strided view); a multiple of
  // 4 keeps every row at its natural alignment.
  p.weight_stride = RowBytes(type, p.n_cols) + 8;
  p.act_stride = ActivationRowBytes(type, p.n_cols) + 12;
  // The last row ends exactly at the end of the allocation (a sanitizer build catches over-reads).
  p.weights.resize(p.weight_stride * (n_rows - 1) + RowBytes(type, p.n_cols));
  for (int64_t r = 0; r < n_rows; ++r)
    RandomWeightRow(type, p.n_cols, rng, p.weights.data() + r * p.weight_stride);
  const std::vector<float> x = RandomFloats(p.n_cols * n_tokens, rng);
  p.act.resize(p.act_stride * (n_tokens - 1) + ActivationRowBytes(type, p.n_cols));
  QuantizeActivations(type, x.data(), p.n_cols, n_tokens, p.n_cols, p.act.data(), p.act_stride);
  return p;
}

TEST(MatMul, MatchesNaiveScalarDots) {
  std::mt19937 rng(5);
  for (GgmlType type : DotTypes()) {
    const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
    const int64_t n_blocks = TypeInfo(type).block_size == 256 ? 3 : 9;
    for (int64_t n_tokens : {1, 2, 3, 4, 5, 8, 13, 70}) {
      Problem p = MakeProblem(type, 37, n_blocks, n_tokens, rng);
      const WeightMatrix w{type, p.n_rows, p.n_cols, p.weight_stride, p.weights.data()};
      const ActivationBatch act{p.act.data(), p.act_stride, p.n_tokens};
      for (CpuIsa isa : SupportedIsas()) {
        for (auto [begin, end] : {std::pair<int64_t, int64_t>{0, 37}, {5, 30}, {3, 4}, {16, 16}}) {
          const size_t out_stride = p.n_rows + 3;
          std::vector<float> out(out_stride * n_tokens, std::numeric_limits<float>::quiet_NaN());
          MatMulRows(w, act, begin, end, out.data(), out_stride, isa);
          for (int64_t t = 0; t < n_tokens; ++t) {
            for (int64_t r = 0; r < static_cast<int64_t>(out_stride); ++r) {
              const float got = out[t * out_stride + r];
              if (r < begin || r >= end) {
                EXPECT_TRUE(std::isnan(got)) << "wrote outside its rows: r=" << r;
                continue;
              }
              const void* wr = p.weights.data() + r * p.weight_stride;
              const void* ar = p.act.data() + t * p.act_stride;
              const float want = ref->vec_dot(p.n_cols, wr, ar);
              const double mag = AbsDotMagnitude(type, wr, ar, p.n_cols);
              ASSERT_NEAR(got, want, 2e-6 * mag + 1e-6) << TypeName(type) << " " << IsaName(isa)
                                                        << " tokens=" << n_tokens << " r=" << r << " t=" << t;
            }
          }
        }
      }
    }
  }
}

// Rows long enough that the panel kernels split K into several chunks (and an odd number of blocks, so
// the last chunk and the last pair of blocks are partial), more tokens than one token block, and a row
// range that ends mid-panel.
TEST(MatMul, LongRowsManyTokens) {
  std::mt19937 rng(17);
  const GgmlType types[] = {GgmlType::kQ8_0,  GgmlType::kQ4_0,    GgmlType::kQ5_0,    GgmlType::kIQ4_NL,
                            GgmlType::kQ2_K,  GgmlType::kQ3_K,    GgmlType::kQ4_K,    GgmlType::kQ5_K,
                            GgmlType::kQ6_K,  GgmlType::kIQ4_XS,  GgmlType::kIQ3_XXS, GgmlType::kIQ3_S,
                            GgmlType::kIQ2_S, GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS,  GgmlType::kIQ1_S,
                            GgmlType::kIQ1_M};
  for (GgmlType type : types) {
    const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
    const int64_t n_blocks = TypeInfo(type).block_size == 256 ? 5 : 41;
    Problem p = MakeProblem(type, 45, n_blocks, 300, rng);
    const WeightMatrix w{type, p.n_rows, p.n_cols, p.weight_stride, p.weights.data()};
    const ActivationBatch act{p.act.data(), p.act_stride, p.n_tokens};
    for (CpuIsa isa : SupportedIsas()) {
      const int64_t begin = 3, end = 42;
      std::vector<float> out(p.n_rows * p.n_tokens, std::numeric_limits<float>::quiet_NaN());
      MatMulRows(w, act, begin, end, out.data(), p.n_rows, isa);
      for (int64_t t = 0; t < p.n_tokens; ++t) {
        for (int64_t r = 0; r < p.n_rows; ++r) {
          const float got = out[t * p.n_rows + r];
          if (r < begin || r >= end) {
            ASSERT_TRUE(std::isnan(got)) << "wrote outside its rows: r=" << r;
            continue;
          }
          const void* wr = p.weights.data() + r * p.weight_stride;
          const void* ar = p.act.data() + t * p.act_stride;
          ASSERT_NEAR(got, ref->vec_dot(p.n_cols, wr, ar),
                      2e-6 * AbsDotMagnitude(type, wr, ar, p.n_cols) + 1e-6)
              << TypeName(type) << " " << IsaName(isa) << " r=" << r << " t=" << t;
        }
      }
    }
  }
}

// The i-quants' batched kernels store value + offset as unsigned bytes (iquants_unpack.inc.h); with every
// activation at +-127 (all +1, all -1, alternating) the byte products are as large as they get, so an
// int16 intermediate that saturated (maddubs on AVX2) or an offset taken back wrongly would show.
TEST(MatMul, IQuantsAtFullScaleActivations) {
  std::mt19937 rng(23);
  for (GgmlType type :
       {GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kIQ3_XXS, GgmlType::kIQ3_S, GgmlType::kIQ2_S,
        GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS, GgmlType::kIQ1_S, GgmlType::kIQ1_M}) {
    const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
    Problem p = MakeProblem(type, 33, TypeInfo(type).block_size == 256 ? 2 : 16, 3, rng);
    std::vector<float> x(p.n_cols * p.n_tokens);
    for (int64_t i = 0; i < p.n_cols; ++i) {
      x[i] = 1.0f;
      x[p.n_cols + i] = -1.0f;
      x[2 * p.n_cols + i] = i % 2 == 0 ? 1.0f : -1.0f;
    }
    QuantizeActivations(type, x.data(), p.n_cols, p.n_tokens, p.n_cols, p.act.data(), p.act_stride);
    const WeightMatrix w{type, p.n_rows, p.n_cols, p.weight_stride, p.weights.data()};
    const ActivationBatch act{p.act.data(), p.act_stride, p.n_tokens};
    for (CpuIsa isa : SupportedIsas()) {
      std::vector<float> out(p.n_rows * p.n_tokens);
      MatMulRows(w, act, 0, p.n_rows, out.data(), p.n_rows, isa);
      for (int64_t t = 0; t < p.n_tokens; ++t) {
        for (int64_t r = 0; r < p.n_rows; ++r) {
          const void* wr = p.weights.data() + r * p.weight_stride;
          const void* ar = p.act.data() + t * p.act_stride;
          ASSERT_NEAR(out[t * p.n_rows + r], ref->vec_dot(p.n_cols, wr, ar),
                      2e-6 * AbsDotMagnitude(type, wr, ar, p.n_cols) + 1e-6)
              << TypeName(type) << " " << IsaName(isa) << " r=" << r << " t=" << t;
        }
      }
    }
  }
}

// F16 rows of a length that is not a multiple of the SIMD width (the batched kernel's tail).
TEST(MatMul, F16OddWidth) {
  std::mt19937 rng(8);
  const TypeKernels* ref = KernelsFor(GgmlType::kF16, CpuIsa::kScalar);
  for (int64_t n_cols : {5, 100, 259}) {
    Problem p = MakeProblem(GgmlType::kF16, 9, 0, 7, rng, n_cols);
    const WeightMatrix w{p.type, p.n_rows, p.n_cols, p.weight_stride, p.weights.data()};
    const ActivationBatch act{p.act.data(), p.act_stride, p.n_tokens};
    for (CpuIsa isa : SupportedIsas()) {
      std::vector<float> out(p.n_rows * p.n_tokens);
      MatMulRows(w, act, 0, p.n_rows, out.data(), p.n_rows, isa);
      for (int64_t t = 0; t < p.n_tokens; ++t) {
        for (int64_t r = 0; r < p.n_rows; ++r) {
          const void* wr = p.weights.data() + r * p.weight_stride;
          const void* ar = p.act.data() + t * p.act_stride;
          EXPECT_NEAR(out[t * p.n_rows + r], ref->vec_dot(p.n_cols, wr, ar),
                      2e-6 * AbsDotMagnitude(p.type, wr, ar, p.n_cols) + 1e-6)
              << IsaName(isa) << " n_cols=" << n_cols;
        }
      }
    }
  }
}

// The 16-bit float formats' blocked kernels pack panels of 256 rows and blocks of 256 columns (512 for
// the AVX512-BF16 kernel's bf16 pairs) and tiles of up to 12 tokens: shapes that cross every one of
// these boundaries, with a row range that starts and ends inside a micro-panel, and an odd width.
TEST(MatMul, FloatFormatsAcrossPanelsAndBlocks) {
  std::mt19937 rng(13);
  for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16}) {
    const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
    for (int64_t n_cols : {1100, 1031}) {
      Problem p = MakeProblem(type, 300, 0, 29, rng, n_cols);
      const WeightMatrix w{type, p.n_rows, p.n_cols, p.weight_stride, p.weights.data()};
      const ActivationBatch act{p.act.data(), p.act_stride, p.n_tokens};
      const int64_t begin = 3, end = 297;
      for (CpuIsa isa : SupportedIsas()) {
        const size_t out_stride = p.n_rows + 5;
        std::vector<float> out(out_stride * p.n_tokens, std::numeric_limits<float>::quiet_NaN());
        MatMulRows(w, act, begin, end, out.data(), out_stride, isa);
        for (int64_t t = 0; t < p.n_tokens; ++t) {
          for (int64_t r = 0; r < static_cast<int64_t>(out_stride); ++r) {
            const float got = out[t * out_stride + r];
            if (r < begin || r >= end) {
              ASSERT_TRUE(std::isnan(got)) << "wrote outside its rows: r=" << r;
              continue;
            }
            const void* wr = p.weights.data() + r * p.weight_stride;
            const void* ar = p.act.data() + t * p.act_stride;
            ASSERT_NEAR(got, ref->vec_dot(p.n_cols, wr, ar),
                        2e-6 * AbsDotMagnitude(type, wr, ar, p.n_cols) + 1e-6)
                << TypeName(type) << " " << IsaName(isa) << " n_cols=" << n_cols << " r=" << r << " t=" << t;
          }
        }
      }
    }
  }
}

// The vdpbf16ps kernel for BF16 (opt-in, so not what MatMulRows runs by default): called directly, on
// the same boundary-crossing shapes, where the CPU has AVX512-BF16.
TEST(MatMul, Bf16DotKernelMatchesTheReference) {
  if (!kernels_internal::CpuHasAvx512Bf16()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  const kernels_internal::GemmKernel gemm = kernels_internal::GemmFloatAvx512Bf16()[0].gemm;
  ASSERT_NE(gemm.blocked, nullptr);
  const TypeKernels* ref = KernelsFor(GgmlType::kBF16, CpuIsa::kScalar);
  std::mt19937 rng(17);
  for (auto [n_rows, n_cols, n_tokens] :
       {std::tuple<int64_t, int64_t, int64_t>{300, 1100, 29}, {37, 1031, 13}, {5, 7, 3}}) {
    Problem p = MakeProblem(GgmlType::kBF16, n_rows, 0, n_tokens, rng, n_cols);
    std::vector<uint8_t> workspace(gemm.workspace_bytes(n_cols) + 64);
    void* aligned = workspace.data() + (64 - reinterpret_cast<uintptr_t>(workspace.data()) % 64) % 64;
    std::vector<float> out(n_rows * n_tokens, std::numeric_limits<float>::quiet_NaN());
    gemm.blocked(p.weights.data(), p.weight_stride, n_rows, n_cols, p.act.data(), p.act_stride, n_tokens,
                 out.data(), n_rows, aligned);
    for (int64_t t = 0; t < n_tokens; ++t) {
      for (int64_t r = 0; r < n_rows; ++r) {
        const void* wr = p.weights.data() + r * p.weight_stride;
        const void* ar = p.act.data() + t * p.act_stride;
        ASSERT_NEAR(out[t * n_rows + r], ref->vec_dot(n_cols, wr, ar),
                    2e-6 * AbsDotMagnitude(GgmlType::kBF16, wr, ar, n_cols) + 1e-6)
            << "n_cols=" << n_cols << " r=" << r << " t=" << t;
      }
    }
  }
}

// QuantizeActivations is the converter the engine runs (model/matmul.cc calls it on each thread's
// tokens): strided rows, each byte-identical to the scalar reference converter of the weight type's
// activation format, and nothing written between rows.
TEST(QuantizeActivations, EachRowEqualsTheScalarConverter) {
  std::mt19937 rng(21);
  for (GgmlType type : DotTypes()) {
    const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
    const int64_t n_cols = 3 * std::max<int64_t>(TypeInfo(type).block_size, 32);
    const int64_t n_tokens = 5;
    const size_t src_stride = n_cols + 7;
    const size_t row_bytes = ActivationRowBytes(type, n_cols);
    ASSERT_EQ(row_bytes, RowBytes(ref->vec_dot_type, n_cols)) << TypeName(type);
    const size_t dst_stride = row_bytes + 4;
    const std::vector<float> x = RandomFloats(static_cast<int64_t>(src_stride) * n_tokens, rng, 3.0f);
    std::vector<uint8_t> got(dst_stride * n_tokens, 0xAB);
    QuantizeActivations(type, x.data(), src_stride, n_tokens, n_cols, got.data(), dst_stride);
    std::vector<uint8_t> want(row_bytes);
    for (int64_t t = 0; t < n_tokens; ++t) {
      ref->from_float(x.data() + t * src_stride, want.data(), n_cols);
      EXPECT_EQ(std::memcmp(got.data() + t * dst_stride, want.data(), row_bytes), 0)
          << TypeName(type) << " token " << t;
      for (size_t b = row_bytes; b < dst_stride; ++b)
        EXPECT_EQ(got[t * dst_stride + b], 0xAB) << TypeName(type);
    }
  }
}

}  // namespace
}  // namespace quantlab
