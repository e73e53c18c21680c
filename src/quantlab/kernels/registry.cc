// The kernel tables, one per ISA, and the cpuid dispatch. Each ISA's table is the one below it (scalar
// at the bottom) with that ISA's registry applied, so a type without, say, an AVX-512 kernel uses its
// AVX2 one there. Tables are built only up to the ISA this CPU runs: no code it cannot execute is ever
// called, not even to build a table.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

#include "quantlab/kernels/registry.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/util/check.h"

namespace quantlab {

std::vector<kernels_internal::TypeKernelEntry> kernels_internal::Entries(const IsaKernels& isa) {
  std::vector<TypeKernelEntry> entries;
  for (std::span<const TypeKernelEntry> table : isa.type_tables)
    entries.insert(entries.end(), table.begin(), table.end());
  return entries;
}

namespace {

using namespace kernels_internal;

constexpr size_t kTypeSlots = 64;  // ggml type ids are < 64
constexpr size_t kIsaCount = 3;

// Everything dispatched at one ISA.
struct IsaTable {
  std::array<TypeKernels, kTypeSlots> types{};
  std::array<bool, kTypeSlots> present{};
  std::array<GemmKernel, kTypeSlots> gemms{};
  AttentionKernels attention{};
  ActivationMath activation_math{};
  PeakLoops peak{};
};

size_t Slot(GgmlType type) {
  const auto slot = static_cast<size_t>(type);
  QL_CHECK(slot < kTypeSlots);
  return slot;
}

template <typename F>
void Override(F& target, F replacement) {
  if (replacement != nullptr) target = replacement;
}

// The scalar table: every entry complete.
IsaTable BottomTable(const IsaKernels& scalar) {
  IsaTable t;
  for (const TypeKernelEntry& e : Entries(scalar)) {
    const size_t slot = Slot(e.type);
    QL_CHECK_MSG(!t.present[slot], "a type listed twice in the scalar registry");
    const ToFloatFn to_float = e.to_float != nullptr ? e.to_float : DequantizerFor(e.type);
    QL_CHECK_MSG(to_float != nullptr && e.from_float != nullptr && e.vec_dot != nullptr,
                 "a scalar registry entry without all its functions");
    t.types[slot] = TypeKernels{e.type, e.vec_dot_type, to_float, e.from_float, e.vec_dot};
    t.present[slot] = true;
    t.gemms[slot] = e.gemm;
  }
  t.attention = scalar.attention;
  t.activation_math = scalar.activation_math;
  QL_CHECK_MSG(t.attention.dot_rows != nullptr && t.attention.dot_row_multi != nullptr &&
                   t.activation_math.silu_mul_row != nullptr && t.activation_math.exp_shifted != nullptr,
               "the scalar registry must define the attention and activation math");
  return t;
}

// `lower` with the ISA's kernels applied; null members keep lower's.
IsaTable Stacked(const IsaTable& lower, const IsaKernels& isa) {
  IsaTable t = lower;
  for (const TypeKernelEntry& e : Entries(isa)) {
    const size_t slot = Slot(e.type);
    QL_CHECK_MSG(t.present[slot], "a SIMD kernel for a type without a scalar reference");
    TypeKernels& k = t.types[slot];
    QL_CHECK_MSG(e.vec_dot_type == k.vec_dot_type, "a SIMD kernel that takes another activation format");
    Override(k.to_float, e.to_float);
    Override(k.from_float, e.from_float);
    Override(k.vec_dot, e.vec_dot);
    if (e.gemm.present()) t.gemms[slot] = e.gemm;
  }
  Override(t.attention.dot_rows, isa.attention.dot_rows);
  Override(t.attention.dot_row_multi, isa.attention.dot_row_multi);
  Override(t.activation_math.silu_mul_row, isa.activation_math.silu_mul_row);
  Override(t.activation_math.exp_shifted, isa.activation_math.exp_shifted);
  Override(t.peak.f32_fma, isa.peak.f32_fma);
  Override(t.peak.int8_dot, isa.peak.int8_dot);
  Override(t.peak.bf16_dot, isa.peak.bf16_dot);
  return t;
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

CpuIsa SupportedIsa() {
  static const CpuIsa hardware = HardwareIsa();
  return hardware;
}

// Index i holds the table of ISA i, for i <= SupportedIsa() only.
const std::array<IsaTable, kIsaCount>& Tables() {
  static const std::array<IsaTable, kIsaCount> tables = [] {
    std::array<IsaTable, kIsaCount> all;
    all[0] = BottomTable(RegistryScalar());
#if defined(QUANTLAB_X86)
    if (SupportedIsa() >= CpuIsa::kAvx2) all[1] = Stacked(all[0], RegistryAvx2());
    if (SupportedIsa() >= CpuIsa::kAvx512) all[2] = Stacked(all[1], RegistryAvx512());
#endif
    return all;
  }();
  return tables;
}

const IsaTable& TableFor(CpuIsa isa) { return Tables()[static_cast<size_t>(CapToSupported(isa))]; }

CpuIsa ComputeDetectedIsa() {
  CpuIsa isa = SupportedIsa();
  if (const char* cap = std::getenv("QUANTLAB_ISA")) {
    const std::string_view name(cap);
    if (name == "scalar") isa = CpuIsa::kScalar;
    if (name == "avx2") isa = CpuIsa::kAvx2;
    if (name == "avx512") isa = CpuIsa::kAvx512;
  }
  return CapToSupported(isa);
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

std::span<const CpuIsa> SupportedIsas() {
  static const std::array<CpuIsa, kIsaCount> all = {CpuIsa::kScalar, CpuIsa::kAvx2, CpuIsa::kAvx512};
  return std::span<const CpuIsa>(all.data(), static_cast<size_t>(SupportedIsa()) + 1);
}

const TypeKernels* KernelsFor(GgmlType type) { return KernelsFor(type, DetectedIsa()); }

const TypeKernels* KernelsFor(GgmlType type, CpuIsa isa) {
  const auto slot = static_cast<size_t>(type);
  if (slot >= kTypeSlots) return nullptr;
  const IsaTable& table = TableFor(isa);
  return table.present[slot] ? &table.types[slot] : nullptr;
}

const AttentionKernels& AttentionKernelsFor() { return AttentionKernelsFor(DetectedIsa()); }
const AttentionKernels& AttentionKernelsFor(CpuIsa isa) { return TableFor(isa).attention; }

const ActivationMath& ActivationMathFor() { return ActivationMathFor(DetectedIsa()); }
const ActivationMath& ActivationMathFor(CpuIsa isa) { return TableFor(isa).activation_math; }

const PeakLoops& PeakLoopsFor() { return PeakLoopsFor(DetectedIsa()); }
const PeakLoops& PeakLoopsFor(CpuIsa isa) { return TableFor(isa).peak; }

const char* ComputeKindFor(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
      return "f32_fma";
    case GgmlType::kBF16:
      return DetectedIsa() >= CpuIsa::kAvx512 && kernels_internal::UseBf16DotKernel() ? "bf16_dot"
                                                                                      : "f32_fma";
    default:
      return "int8_dot";
  }
}

namespace kernels_internal {

CpuIsa CapToSupported(CpuIsa isa) { return std::min(isa, SupportedIsa()); }

bool UseBf16DotKernel() {
  static const bool use = [] {
    const char* flag = std::getenv("QUANTLAB_BF16_DOT");
    return flag != nullptr && std::string_view(flag) == "1" && CpuHasAvx512Bf16();
  }();
  return use;
}

bool CpuHasAvx512Bf16() {
#if defined(QUANTLAB_X86) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return SupportedIsa() >= CpuIsa::kAvx512 && __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

GemmKernel GemmKernelFor(GgmlType type, CpuIsa isa) {
  const auto slot = static_cast<size_t>(type);
  if (slot >= kTypeSlots) return {};
  return TableFor(isa).gemms[slot];
}

}  // namespace kernels_internal
}  // namespace quantlab
