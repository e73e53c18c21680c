// Dot products: hand-computed cases, the scalar reference against a double-precision dot of the
// dequantized rows, and every SIMD kernel against the scalar reference at each ISA this CPU runs, on
// odd sizes and misaligned buffers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernel_test_util.h"
#include "quantlab/kernels/kernels.h"
#include "quantlab/quant/blocks.h"
#include "quantlab/quant/quantize.h"

namespace quantlab {
namespace {

using testing::AbsDotMagnitude;
using testing::Buffer;
using testing::DotTypes;
using testing::RandomFloats;
using testing::RandomWeightRow;

std::string Name(GgmlType type) { return std::string(TypeName(type)); }

TEST(KernelTable, EveryDotTypeHasAllFunctionsAtEveryIsa) {
  ASSERT_FALSE(SupportedIsas().empty());
  EXPECT_EQ(SupportedIsas()[0], CpuIsa::kScalar);
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : DotTypes()) {
      const TypeKernels* k = KernelsFor(type, isa);
      ASSERT_NE(k, nullptr) << Name(type) << " " << IsaName(isa);
      EXPECT_EQ(k->type, type);
      EXPECT_NE(k->to_float, nullptr) << Name(type);
      EXPECT_NE(k->from_float, nullptr) << Name(type);
      EXPECT_NE(k->vec_dot, nullptr) << Name(type);
    }
  }
  EXPECT_EQ(KernelsFor(GgmlType::kQ4_K)->vec_dot_type, GgmlType::kQ8_K);
  EXPECT_EQ(KernelsFor(GgmlType::kQ4_0)->vec_dot_type, GgmlType::kQ8_0);
  EXPECT_EQ(KernelsFor(GgmlType::kQ5_1)->vec_dot_type, GgmlType::kQ8_1);
  EXPECT_EQ(KernelsFor(GgmlType::kF16)->vec_dot_type, GgmlType::kF16);
  EXPECT_EQ(KernelsFor(GgmlType::kIQ2_XS)->vec_dot_type, GgmlType::kQ8_K);
  EXPECT_EQ(KernelsFor(GgmlType::kIQ1_M)->vec_dot_type, GgmlType::kQ8_K);
  EXPECT_EQ(KernelsFor(GgmlType::kTQ1_0), nullptr);
}

// QUANTLAB_ISA caps the detected ISA (checked in a fresh process: DetectedIsa is computed once).
TEST(IsaDispatchDeathTest, EnvironmentCapsTheIsa) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("QUANTLAB_ISA", "scalar", 1);
        std::exit(DetectedIsa() == CpuIsa::kScalar ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  const CpuIsa best = SupportedIsas().back();
  const CpuIsa avx2_cap = best == CpuIsa::kScalar ? CpuIsa::kScalar : CpuIsa::kAvx2;
  EXPECT_EXIT(
      {
        setenv("QUANTLAB_ISA", "avx2", 1);
        std::exit(DetectedIsa() == avx2_cap ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(
      {
        unsetenv("QUANTLAB_ISA");
        std::exit(DetectedIsa() == best ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// On a CPU with AVX2, every lab format has a vec_dot of its own there (so the SIMD tests below compare
// two different implementations, not the reference with itself).
TEST(KernelTable, LabFormatsHaveSimdDots) {
  if (SupportedIsas().size() < 2) GTEST_SKIP() << "no SIMD ISA on this CPU";
  for (GgmlType type :
       {GgmlType::kF16, GgmlType::kQ8_0, GgmlType::kQ6_K, GgmlType::kQ5_K, GgmlType::kQ4_K, GgmlType::kQ3_K,
        GgmlType::kQ2_K, GgmlType::kQ4_0, GgmlType::kIQ4_XS, GgmlType::kIQ3_XXS, GgmlType::kIQ3_S,
        GgmlType::kIQ2_S, GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS, GgmlType::kIQ1_S, GgmlType::kIQ1_M}) {
    EXPECT_NE(KernelsFor(type, CpuIsa::kAvx2)->vec_dot, KernelsFor(type, CpuIsa::kScalar)->vec_dot)
        << Name(type);
  }
}

// Q4_0 with every nibble 9 (value 9 - 8 = 1) and d = 1 against Q8_0 values 2 with d = 0.5: each block
// contributes 32 * 1 * 2 * (1 * 0.5) = 32.
TEST(ScalarDot, HandComputedQ4_0) {
  std::vector<BlockQ4_0> w(3);
  std::vector<BlockQ8_0> a(3);
  for (int b = 0; b < 3; ++b) {
    w[b].d = Fp32ToFp16(1.0f);
    for (auto& q : w[b].qs) q = 0x99;
    a[b].d = Fp32ToFp16(0.5f);
    for (auto& q : a[b].qs) q = 2;
  }
  EXPECT_FLOAT_EQ(KernelsFor(GgmlType::kQ4_0, CpuIsa::kScalar)->vec_dot(96, w.data(), a.data()), 96.0f);
  for (CpuIsa isa : SupportedIsas()) {
    EXPECT_FLOAT_EQ(KernelsFor(GgmlType::kQ4_0, isa)->vec_dot(96, w.data(), a.data()), 96.0f) << IsaName(isa);
  }
}

// Q6_K: every quant 33 (value 1), scales alternate 2 and -3, d = 0.25; activations all 1 with d = 2 (sums
// of 16 = 16). Dot = 0.25 * 2 * sum over 16 sub-blocks of scale * 16 = 0.5 * 16 * 8 * (2 - 3) = -64.
TEST(ScalarDot, HandComputedQ6_K) {
  BlockQ6_K w{};
  // Low nibble 1 and high bits 2 (=32): 33 everywhere.
  for (auto& q : w.ql) q = 0x11;
  for (auto& q : w.qh) q = 0xAA;
  for (int s = 0; s < 16; ++s) w.scales[s] = s % 2 == 0 ? 2 : -3;
  w.d = Fp32ToFp16(0.25f);
  BlockQ8_K a{};
  a.d = 2.0f;
  for (auto& q : a.qs) q = 1;
  for (auto& s : a.bsums) s = 16;
  for (CpuIsa isa : SupportedIsas()) {
    EXPECT_FLOAT_EQ(KernelsFor(GgmlType::kQ6_K, isa)->vec_dot(256, &w, &a), -64.0f) << IsaName(isa);
  }
}

// IQ1_S: every group grid point 0 (all -1), scale bits 1 (2 * 1 + 1 = 3), positive shift, d = 1:
// x = 3 * (-1 + 0.125) = -2.625; activations all 1 with d = 2. Dot = 256 * -2.625 * 2 = -1344.
TEST(ScalarDot, HandComputedIQ1_S) {
  BlockIQ1_S w{};
  w.d = Fp32ToFp16(1.0f);
  for (auto& h : w.qh) h = 1 << 12;
  BlockQ8_K a{};
  a.d = 2.0f;
  for (auto& q : a.qs) q = 1;
  for (auto& s : a.bsums) s = 16;
  for (CpuIsa isa : SupportedIsas()) {
    EXPECT_FLOAT_EQ(KernelsFor(GgmlType::kIQ1_S, isa)->vec_dot(256, &w, &a), -1344.0f) << IsaName(isa);
  }
}

// Q4_K: every quant 3, scales 1..8 per sub-block of 32 and mins 2; d = 1, dmin = 0.5; activations all 1
// with d = 1. Dot = sum_j 32 * 3 * scale_j - 0.5 * 2 * 256 = 96 * 36 - 256 = 3200.
TEST(ScalarDot, HandComputedQ4_K) {
  BlockQ4_K w{};
  w.d = Fp32ToFp16(1.0f);
  w.dmin = Fp32ToFp16(0.5f);
  for (auto& q : w.qs) q = 0x33;
  // Scales 1..4 and mins 2 in the low 6 bits of bytes 0..3 / 4..7; sub-blocks 4..7 take their low 4
  // bits from bytes 8..11 (scale low nibble, min high nibble) and their high 2 bits from bytes 0..7.
  for (int j = 0; j < 4; ++j) {
    w.scales[j] = static_cast<uint8_t>(j + 1);
    w.scales[j + 4] = 2;
    w.scales[j + 8] = static_cast<uint8_t>(((j + 5) & 0xF) | (2 << 4));
  }
  BlockQ8_K a{};
  a.d = 1.0f;
  for (auto& q : a.qs) q = 1;
  for (auto& s : a.bsums) s = 16;
  for (CpuIsa isa : SupportedIsas()) {
    EXPECT_FLOAT_EQ(KernelsFor(GgmlType::kQ4_K, isa)->vec_dot(256, &w, &a), 3200.0f) << IsaName(isa);
  }
}

// The scalar reference agrees with a double-precision dot of the dequantized rows (quant/'s
// dequantizers, written independently of the dot kernels) up to float rounding.
TEST(ScalarDot, MatchesDoubleDotOfDequantizedRows) {
  std::mt19937 rng(1234);
  for (GgmlType type : DotTypes()) {
    const TypeKernels* k = KernelsFor(type, CpuIsa::kScalar);
    const int64_t block = TypeInfo(type).block_size == 1 ? 32 : TypeInfo(type).block_size;
    for (int64_t n_blocks : {1, 2, 3, 7, 16}) {
      const int64_t n = n_blocks * std::max<int64_t>(block, 32);
      const std::vector<float> wf = RandomFloats(n, rng), af = RandomFloats(n, rng);
      std::vector<uint8_t> w(RowBytes(type, n)), a(RowBytes(k->vec_dot_type, n));
      if (RequiresImportance(type)) {
        // IQ2_XXS / IQ2_XS / IQ1_S: ggml quantizes them only with importance weights.
        const std::vector<float> importance(n, 1.0f);
        QuantizeRows(type, wf.data(), w.data(), 1, n, importance.data());
      } else {
        QuantizeRowReference(type, wf, w.data());
      }
      k->from_float(af.data(), a.data(), n);
      std::vector<float> wd(n), ad(n);
      DequantizeRow(type, w.data(), wd.data(), n);
      DequantizeRow(k->vec_dot_type, a.data(), ad.data(), n);
      double exact = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += static_cast<double>(wd[i]) * ad[i];
        mag += std::fabs(static_cast<double>(wd[i]) * ad[i]);
      }
      double bound = 2e-6 * mag + 1e-6;
      if (k->vec_dot_type == GgmlType::kQ8_1) {
        // Q8_1 stores s = d * sum(q) in half precision: 2^-11 relative error on each block's min term.
        const auto* y = reinterpret_cast<const BlockQ8_1*>(a.data());
        const size_t wbytes = type == GgmlType::kQ4_1 ? sizeof(BlockQ4_1) : sizeof(BlockQ5_1);
        for (int64_t b = 0; b < n / 32; ++b) {
          fp16_t m;
          std::memcpy(&m, w.data() + b * wbytes + 2, 2);
          bound += std::fabs(Fp16ToFp32(m) * Fp16ToFp32(y[b].s)) * 1e-3;
        }
      }
      const float got = k->vec_dot(n, w.data(), a.data());
      EXPECT_NEAR(got, exact, bound) << Name(type) << " n=" << n;
    }
  }
}

// Every kernel at every supported ISA against the scalar reference: random bit patterns, block counts
// that exercise every unrolled loop's tail, and buffers off 64-byte alignment.
TEST(SimdDot, MatchesScalarReference) {
  std::mt19937 rng(99);
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : DotTypes()) {
      const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
      const TypeKernels* simd = KernelsFor(type, isa);
      const int64_t block = std::max<int64_t>(TypeInfo(type).block_size, 32);
      for (int64_t n_blocks : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33}) {
        for (size_t step : {0, 1, 3, 9}) {
          // Off 64-byte alignment by multiples of the rows' natural alignment.
          const size_t misalign = step * testing::RowAlignment(type);
          const size_t act_misalign = (step * 7 % 16) * testing::RowAlignment(ref->vec_dot_type);
          const int64_t n = n_blocks * block;
          Buffer w(RowBytes(type, n), misalign), a(RowBytes(ref->vec_dot_type, n), act_misalign);
          RandomWeightRow(type, n, rng, w.data());
          const std::vector<float> af = RandomFloats(n, rng);
          ref->from_float(af.data(), a.data(), n);
          const float want = ref->vec_dot(n, w.data(), a.data());
          const float got = simd->vec_dot(n, w.data(), a.data());
          // Exact-size heap copies: a sanitizer build catches any read past the rows.
          const std::vector<uint8_t> w_exact(w.data(), w.data() + w.size()),
              a_exact(a.data(), a.data() + a.size());
          EXPECT_EQ(simd->vec_dot(n, w_exact.data(), a_exact.data()), got);
          const double mag = AbsDotMagnitude(type, w.data(), a.data(), n);
          EXPECT_NEAR(got, want, 2e-6 * mag + 1e-6)
              << Name(type) << " " << IsaName(isa) << " n=" << n << " misalign=" << misalign;
        }
      }
    }
  }
}

// The float formats take any length, not only multiples of the SIMD width.
TEST(SimdDot, FloatFormatsAtOddLengths) {
  std::mt19937 rng(3);
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16, GgmlType::kF32}) {
      const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
      for (int64_t n : {1, 7, 9, 31, 33, 100, 257}) {
        Buffer w(RowBytes(type, n), 2 * testing::RowAlignment(type)), a(RowBytes(type, n), 12);
        RandomWeightRow(type, n, rng, w.data());
        const std::vector<float> af = RandomFloats(n, rng);
        ref->from_float(af.data(), a.data(), n);
        const double mag = AbsDotMagnitude(type, w.data(), a.data(), n);
        EXPECT_NEAR(KernelsFor(type, isa)->vec_dot(n, w.data(), a.data()),
                    ref->vec_dot(n, w.data(), a.data()), 2e-6 * mag + 1e-6)
            << Name(type) << " " << IsaName(isa) << " n=" << n;
      }
    }
  }
}

// from_float (activation quantization) is byte-identical at every ISA.
TEST(SimdFromFloat, ByteIdenticalToScalar) {
  std::mt19937 rng(7);
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : DotTypes()) {
      const TypeKernels* ref = KernelsFor(type, CpuIsa::kScalar);
      const TypeKernels* simd = KernelsFor(type, isa);
      for (int64_t n : {256, 512, 768, 1792, 4096}) {
        for (float scale : {1e-3f, 1.0f, 300.0f}) {
          std::vector<float> x = RandomFloats(n, rng, scale);
          x[5] = 0;  // a zero, and a whole zero block
          for (int i = 64; i < 96; ++i) x[i] = 0;
          // The second super-block all zero; in the third, a tie in magnitude (the first one decides).
          if (n >= 768) {
            for (int i = 256; i < 512; ++i) x[i] = 0;
            x[600] = 50 * scale;
            x[700] = -50 * scale;
          }
          Buffer want(RowBytes(ref->vec_dot_type, n), 0),
              got(RowBytes(ref->vec_dot_type, n), 5 * testing::RowAlignment(ref->vec_dot_type));
          ref->from_float(x.data(), want.data(), n);
          simd->from_float(x.data(), got.data(), n);
          EXPECT_EQ(std::memcmp(want.data(), got.data(), want.size()), 0)
              << Name(type) << " " << IsaName(isa) << " n=" << n << " scale=" << scale;
        }
      }
    }
  }
}

// Ties: values that land exactly on .5 after scaling round to even (llama.cpp's x86 activation rule).
TEST(ActivationQuant, Q8_0RoundsHalfToEven) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax 127: inverse scale exactly 1
  x[1] = 2.5f;
  x[2] = -3.5f;
  x[3] = 0.5f;
  for (CpuIsa isa : SupportedIsas()) {
    BlockQ8_0 y{};
    KernelsFor(GgmlType::kQ8_0, isa)->from_float(x.data(), &y, 32);
    EXPECT_EQ(y.qs[0], 127) << IsaName(isa);
    EXPECT_EQ(y.qs[1], 2) << IsaName(isa);
    EXPECT_EQ(y.qs[2], -4) << IsaName(isa);
    EXPECT_EQ(y.qs[3], 0) << IsaName(isa);
    EXPECT_EQ(Fp16ToFp32(y.d), 1.0f);
  }
}

// to_float is value-identical at every ISA.
TEST(SimdToFloat, IdenticalToScalar) {
  std::mt19937 rng(11);
  for (CpuIsa isa : SupportedIsas()) {
    for (GgmlType type : DotTypes()) {
      const int64_t n = 7 * std::max<int64_t>(TypeInfo(type).block_size, 32);
      Buffer w(RowBytes(type, n), 3 * testing::RowAlignment(type));
      RandomWeightRow(type, n, rng, w.data());
      std::vector<float> want(n), got(n);
      KernelsFor(type, CpuIsa::kScalar)->to_float(w.data(), want.data(), n);
      KernelsFor(type, isa)->to_float(w.data(), got.data(), n);
      EXPECT_EQ(std::memcmp(want.data(), got.data(), n * sizeof(float)), 0)
          << Name(type) << " " << IsaName(isa);
    }
  }
}

}  // namespace
}  // namespace quantlab
