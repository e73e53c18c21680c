// The kernel registry (kernels/registry.h): one table per ISA holding every kind of kernel, capped to
// what the CPU runs, SIMD entries that agree with the scalar registry on each type's activation format,
// and every SIMD ISA providing its own versions of the kernels the engine spends its time in.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kernels/kernel_test_util.h"
#include "quantlab/kernels/registry.h"

namespace quantlab {
namespace {

using kernels_internal::CapToSupported;
using kernels_internal::GemmKernelFor;
using kernels_internal::IsaKernels;
using kernels_internal::RegistryScalar;
using kernels_internal::TypeKernelEntry;

constexpr CpuIsa kAllIsas[] = {CpuIsa::kScalar, CpuIsa::kAvx2, CpuIsa::kAvx512};

TEST(KernelRegistry, CapToSupportedNeverExceedsTheCpu) {
  const CpuIsa best = SupportedIsas().back();
  for (CpuIsa isa : kAllIsas) {
    const CpuIsa capped = CapToSupported(isa);
    EXPECT_LE(static_cast<int>(capped), static_cast<int>(best)) << IsaName(isa);
    EXPECT_LE(static_cast<int>(capped), static_cast<int>(isa)) << IsaName(isa);
  }
  for (CpuIsa isa : SupportedIsas()) EXPECT_EQ(CapToSupported(isa), isa) << IsaName(isa);
  EXPECT_LE(static_cast<int>(DetectedIsa()), static_cast<int>(best));
}

// Every lookup at an ISA the CPU lacks answers with the best supported ISA's kernels, whatever the kind.
TEST(KernelRegistry, EveryKindOfLookupIsCappedTheSameWay) {
  const CpuIsa best = SupportedIsas().back();
  for (CpuIsa isa : kAllIsas) {
    const CpuIsa capped = CapToSupported(isa);
    EXPECT_EQ(&AttentionKernelsFor(isa), &AttentionKernelsFor(capped)) << IsaName(isa);
    EXPECT_EQ(&ActivationMathFor(isa), &ActivationMathFor(capped)) << IsaName(isa);
    for (GgmlType type : testing::DotTypes()) {
      EXPECT_EQ(KernelsFor(type, isa), KernelsFor(type, capped)) << IsaName(isa);
      EXPECT_EQ(GemmKernelFor(type, isa).tile, GemmKernelFor(type, capped).tile) << IsaName(isa);
      EXPECT_EQ(GemmKernelFor(type, isa).blocked, GemmKernelFor(type, capped).blocked) << IsaName(isa);
    }
  }
  EXPECT_EQ(&AttentionKernelsFor(CpuIsa::kAvx512), &AttentionKernelsFor(best));
}

// The scalar registry lists each type once, with all its functions; the tables at every ISA are complete.
TEST(KernelRegistry, ScalarRegistryIsCompleteAndEveryTableInheritsIt) {
  const std::vector<TypeKernelEntry> scalar = Entries(RegistryScalar());
  std::set<GgmlType> listed;
  for (const TypeKernelEntry& e : scalar) {
    EXPECT_TRUE(listed.insert(e.type).second) << TypeName(e.type) << " listed twice";
    EXPECT_NE(e.from_float, nullptr) << TypeName(e.type);
    EXPECT_NE(e.vec_dot, nullptr) << TypeName(e.type);
    EXPECT_FALSE(e.gemm.present()) << TypeName(e.type) << ": batched kernels are SIMD only";
  }
  for (GgmlType type : testing::DotTypes()) EXPECT_EQ(listed.count(type), 1u) << TypeName(type);
  for (CpuIsa isa : SupportedIsas()) {
    EXPECT_NE(AttentionKernelsFor(isa).dot_rows, nullptr) << IsaName(isa);
    EXPECT_NE(AttentionKernelsFor(isa).dot_row_multi, nullptr) << IsaName(isa);
    EXPECT_NE(ActivationMathFor(isa).silu_mul_row, nullptr) << IsaName(isa);
    EXPECT_NE(ActivationMathFor(isa).exp_shifted, nullptr) << IsaName(isa);
    for (const TypeKernelEntry& e : scalar) {
      const TypeKernels* k = KernelsFor(e.type, isa);
      ASSERT_NE(k, nullptr) << TypeName(e.type) << " " << IsaName(isa);
      EXPECT_EQ(k->vec_dot_type, e.vec_dot_type) << TypeName(e.type) << " " << IsaName(isa);
    }
  }
}

// On a CPU with AVX2 the attention dots, the activation math and the lab formats' batched kernels have
// SIMD versions there (so the SIMD tests compare two implementations, not the scalar one with itself).
TEST(KernelRegistry, SimdIsasProvideTheHotKernels) {
  if (SupportedIsas().size() < 2) GTEST_SKIP() << "no SIMD ISA on this CPU";
  for (CpuIsa isa : SupportedIsas().subspan(1)) {
    EXPECT_NE(AttentionKernelsFor(isa).dot_rows, AttentionKernelsFor(CpuIsa::kScalar).dot_rows);
    EXPECT_NE(ActivationMathFor(isa).exp_shifted, ActivationMathFor(CpuIsa::kScalar).exp_shifted);
    for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ6_K, GgmlType::kQ5_K, GgmlType::kQ4_K,
                          GgmlType::kQ3_K, GgmlType::kQ2_K}) {
      EXPECT_NE(GemmKernelFor(type, isa).tile, nullptr) << TypeName(type) << " " << IsaName(isa);
    }
    // The i-quants' batched kernels (gemm_iquants_avx2.cc, gemm_q8_avx2.cc, gemm_int8_*_avx512.cc); on
    // AVX2 IQ4_XS has none (its offset bytes do not fit maddubs).
    for (GgmlType type : {GgmlType::kIQ4_NL, GgmlType::kIQ3_XXS, GgmlType::kIQ3_S, GgmlType::kIQ2_S,
                          GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS, GgmlType::kIQ1_S, GgmlType::kIQ1_M}) {
      EXPECT_NE(GemmKernelFor(type, isa).tile, nullptr) << TypeName(type) << " " << IsaName(isa);
    }
    EXPECT_EQ(GemmKernelFor(GgmlType::kIQ4_XS, isa).tile != nullptr, isa == CpuIsa::kAvx512);
    // The 16-bit float formats have blocked kernels (gemm_float.inc.h).
    for (GgmlType type : {GgmlType::kF16, GgmlType::kBF16}) {
      EXPECT_NE(GemmKernelFor(type, isa).blocked, nullptr) << TypeName(type) << " " << IsaName(isa);
    }
  }
}

}  // namespace
}  // namespace quantlab
