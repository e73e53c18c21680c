// The TypeKernels tables, one per ISA, and the cpuid dispatch. Each table starts as the one below it
// (scalar at the bottom) with the ISA's overrides applied, so a type without, say, an AVX-512 kernel
// uses its AVX2 one there.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "quantlab/kernels/kernel_impl.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/util/check.h"

namespace quantlab {
namespace {

using namespace kernels_internal;

constexpr size_t kTypeSlots = 64;  // ggml type ids are < 64
constexpr int kIsaCount = 3;

struct IsaTable {
  std::array<TypeKernels, kTypeSlots> kernels{};
  std::array<bool, kTypeSlots> present{};
  std::array<GemmKernel, kTypeSlots> gemms{};
};

size_t Slot(GgmlType type) {
  const auto slot = static_cast<size_t>(type);
  QL_CHECK(slot < kTypeSlots);
  return slot;
}

void AddScalar(IsaTable& table, GgmlType type, GgmlType vec_dot_type, FromFloatFn from_float,
               VecDotFn vec_dot) {
  const size_t slot = Slot(type);
  // Weights are dequantized by quant/'s dequantizers (ggml's dequantize_row_*), except F16 whose
  // conversion the kernels speed up.
  ToFloatFn to_float = DequantizerFor(type);
  table.kernels[slot] = TypeKernels{type, vec_dot_type, to_float, from_float, vec_dot};
  table.present[slot] = true;
}

IsaTable BuildScalarTable() {
  IsaTable t;
  const FromFloatFn q8_k = ReferenceQuantizerFor(GgmlType::kQ8_K);
  AddScalar(t, GgmlType::kF32, GgmlType::kF32, FloatToF32Scalar, DotF32F32Scalar);
  AddScalar(t, GgmlType::kF16, GgmlType::kF16, FloatToF16Scalar, DotF16F16Scalar);
  AddScalar(t, GgmlType::kBF16, GgmlType::kBF16, FloatToBF16Scalar, DotBF16BF16Scalar);
  AddScalar(t, GgmlType::kQ4_0, GgmlType::kQ8_0, QuantizeActivationQ8_0Scalar, DotQ4_0Q8_0Scalar);
  AddScalar(t, GgmlType::kQ4_1, GgmlType::kQ8_1, QuantizeActivationQ8_1Scalar, DotQ4_1Q8_1Scalar);
  AddScalar(t, GgmlType::kIQ4_NL, GgmlType::kQ8_0, QuantizeActivationQ8_0Scalar, DotIQ4_NLQ8_0Scalar);
  AddScalar(t, GgmlType::kQ5_0, GgmlType::kQ8_0, QuantizeActivationQ8_0Scalar, DotQ5_0Q8_0Scalar);
  AddScalar(t, GgmlType::kQ5_1, GgmlType::kQ8_1, QuantizeActivationQ8_1Scalar, DotQ5_1Q8_1Scalar);
  AddScalar(t, GgmlType::kQ8_0, GgmlType::kQ8_0, QuantizeActivationQ8_0Scalar, DotQ8_0Q8_0Scalar);
  AddScalar(t, GgmlType::kQ2_K, GgmlType::kQ8_K, q8_k, DotQ2_KQ8_KScalar);
  AddScalar(t, GgmlType::kQ3_K, GgmlType::kQ8_K, q8_k, DotQ3_KQ8_KScalar);
  AddScalar(t, GgmlType::kQ4_K, GgmlType::kQ8_K, q8_k, DotQ4_KQ8_KScalar);
  AddScalar(t, GgmlType::kQ5_K, GgmlType::kQ8_K, q8_k, DotQ5_KQ8_KScalar);
  AddScalar(t, GgmlType::kQ6_K, GgmlType::kQ8_K, q8_k, DotQ6_KQ8_KScalar);
  if (t.kernels[Slot(GgmlType::kF16)].to_float == nullptr) {
    t.kernels[Slot(GgmlType::kF16)].to_float = F16ToFloatScalar;
  }
  return t;
}

IsaTable WithOverrides(const IsaTable& base, std::span<const KernelOverride> overrides) {
  IsaTable t = base;
  for (const KernelOverride& o : overrides) {
    const size_t slot = Slot(o.type);
    QL_CHECK_MSG(t.present[slot], "ISA override for a type without a scalar reference");
    TypeKernels& k = t.kernels[slot];
    if (o.to_float) k.to_float = o.to_float;
    if (o.from_float) k.from_float = o.from_float;
    if (o.vec_dot) k.vec_dot = o.vec_dot;
    if (o.gemm.tile) t.gemms[slot] = o.gemm;
  }
  return t;
}

#if defined(QUANTLAB_X86)
std::vector<KernelOverride> Concat(std::initializer_list<std::span<const KernelOverride>> parts) {
  std::vector<KernelOverride> all;
  for (auto part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}
#endif

struct AllTables {
  std::array<IsaTable, kIsaCount> by_isa;
};

const AllTables& Tables() {
  static const AllTables tables = [] {
    AllTables all;
    all.by_isa[0] = BuildScalarTable();
#if defined(QUANTLAB_X86)
    all.by_isa[1] = WithOverrides(all.by_isa[0], Avx2Overrides());
    all.by_isa[2] = WithOverrides(all.by_isa[1], Avx512Overrides());
#else
    all.by_isa[1] = all.by_isa[0];
    all.by_isa[2] = all.by_isa[0];
#endif
    return all;
  }();
  return tables;
}

CpuIsa HardwareIsa() {
#if defined(QUANTLAB_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("f16c") && __builtin_cpu_supports("bmi2");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512vnni");
  if (avx512) return CpuIsa::kAvx512;
  if (avx2) return CpuIsa::kAvx2;
#endif
  return CpuIsa::kScalar;
}

CpuIsa ComputeDetectedIsa() {
  CpuIsa isa = HardwareIsa();
  if (const char* cap = std::getenv("QUANTLAB_ISA")) {
    const std::string_view name(cap);
    CpuIsa wanted = isa;
    if (name == "scalar") wanted = CpuIsa::kScalar;
    if (name == "avx2") wanted = CpuIsa::kAvx2;
    if (name == "avx512") wanted = CpuIsa::kAvx512;
    if (static_cast<int>(wanted) < static_cast<int>(isa)) isa = wanted;
  }
  return isa;
}

}  // namespace

CpuIsa DetectedIsa() {
  static const CpuIsa isa = ComputeDetectedIsa();
  return isa;
}

const char* IsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kScalar:
      return "scalar";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
  }
  return "unknown";
}

const TypeKernels* KernelsFor(GgmlType type) { return KernelsFor(type, DetectedIsa()); }

const TypeKernels* KernelsFor(GgmlType type, CpuIsa isa) {
  const auto slot = static_cast<size_t>(type);
  if (slot >= kTypeSlots) return nullptr;
  // Never hand out code this CPU cannot run.
  static const CpuIsa hardware = HardwareIsa();
  if (static_cast<int>(isa) > static_cast<int>(hardware)) isa = hardware;
  const IsaTable& table = Tables().by_isa[static_cast<int>(isa)];
  return table.present[slot] ? &table.kernels[slot] : nullptr;
}

std::span<const CpuIsa> SupportedIsas() {
  static const std::array<CpuIsa, kIsaCount> all = {CpuIsa::kScalar, CpuIsa::kAvx2, CpuIsa::kAvx512};
  return std::span<const CpuIsa>(all.data(), static_cast<size_t>(HardwareIsa()) + 1);
}

namespace kernels_internal {

#if defined(QUANTLAB_X86)
std::span<const KernelOverride> Avx2Overrides() {
  static const std::vector<KernelOverride> all =
      Concat({LegacyAvx2Kernels(), KQuantAvx2Kernels(), FloatAvx2Kernels(), GemmAvx2Kernels(),
              GemmFloatAvx2Kernels(), GemmQ8Avx2Kernels()});
  return all;
}

std::span<const KernelOverride> Avx512Overrides() {
  static const std::vector<KernelOverride> all =
      Concat({LegacyAvx512Kernels(), KQuantAvx512Kernels(), GemmKQuantAvx512Kernels(), GemmQ8Avx512Kernels(),
              GemmFloatAvx512Kernels()});
  return all;
}
#endif

size_t IsaIndex(CpuIsa isa, size_t n_versions) {
  static const CpuIsa hardware = HardwareIsa();
  if (static_cast<int>(isa) > static_cast<int>(hardware)) isa = hardware;
  return std::min(static_cast<size_t>(isa), n_versions - 1);
}

GemmKernel GemmKernelFor(GgmlType type, CpuIsa isa) {
  const auto slot = static_cast<size_t>(type);
  if (slot >= kTypeSlots) return {};
  static const CpuIsa hardware = HardwareIsa();
  if (static_cast<int>(isa) > static_cast<int>(hardware)) isa = hardware;
  return Tables().by_isa[static_cast<int>(isa)].gemms[slot];
}

}  // namespace kernels_internal
}  // namespace quantlab
