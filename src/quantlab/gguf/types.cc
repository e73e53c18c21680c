#include "quantlab/gguf/types.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "quantlab/util/check.h"

namespace quantlab {
namespace {

// Block sizes and byte counts follow ggml's block structs (ggml-common.h). `supported` marks what
// quantlab computes with; the rest can be read, inspected and copied but not evaluated.
constexpr std::array kTypes = {
    GgmlTypeInfo{GgmlType::kF32, "f32", 1, 4, false, true},
    GgmlTypeInfo{GgmlType::kF16, "f16", 1, 2, false, true},
    GgmlTypeInfo{GgmlType::kQ4_0, "q4_0", 32, 18, true, true},
    GgmlTypeInfo{GgmlType::kQ4_1, "q4_1", 32, 20, true, true},
    GgmlTypeInfo{GgmlType::kQ5_0, "q5_0", 32, 22, true, true},
    GgmlTypeInfo{GgmlType::kQ5_1, "q5_1", 32, 24, true, true},
    GgmlTypeInfo{GgmlType::kQ8_0, "q8_0", 32, 34, true, true},
    GgmlTypeInfo{GgmlType::kQ8_1, "q8_1", 32, 36, true, true},
    GgmlTypeInfo{GgmlType::kQ2_K, "q2_K", 256, 84, true, true},
    GgmlTypeInfo{GgmlType::kQ3_K, "q3_K", 256, 110, true, true},
    GgmlTypeInfo{GgmlType::kQ4_K, "q4_K", 256, 144, true, true},
    GgmlTypeInfo{GgmlType::kQ5_K, "q5_K", 256, 176, true, true},
    GgmlTypeInfo{GgmlType::kQ6_K, "q6_K", 256, 210, true, true},
    GgmlTypeInfo{GgmlType::kQ8_K, "q8_K", 256, 292, true, true},
    GgmlTypeInfo{GgmlType::kIQ2_XXS, "iq2_xxs", 256, 66, true, true},
    GgmlTypeInfo{GgmlType::kIQ2_XS, "iq2_xs", 256, 74, true, true},
    GgmlTypeInfo{GgmlType::kIQ3_XXS, "iq3_xxs", 256, 98, true, true},
    GgmlTypeInfo{GgmlType::kIQ1_S, "iq1_s", 256, 50, true, true},
    GgmlTypeInfo{GgmlType::kIQ4_NL, "iq4_nl", 32, 18, true, true},
    GgmlTypeInfo{GgmlType::kIQ3_S, "iq3_s", 256, 110, true, true},
    GgmlTypeInfo{GgmlType::kIQ2_S, "iq2_s", 256, 82, true, true},
    GgmlTypeInfo{GgmlType::kIQ4_XS, "iq4_xs", 256, 136, true, true},
    GgmlTypeInfo{GgmlType::kI8, "i8", 1, 1, false, false},
    GgmlTypeInfo{GgmlType::kI16, "i16", 1, 2, false, false},
    GgmlTypeInfo{GgmlType::kI32, "i32", 1, 4, false, false},
    GgmlTypeInfo{GgmlType::kI64, "i64", 1, 8, false, false},
    GgmlTypeInfo{GgmlType::kF64, "f64", 1, 8, false, false},
    GgmlTypeInfo{GgmlType::kIQ1_M, "iq1_m", 256, 56, true, true},
    GgmlTypeInfo{GgmlType::kBF16, "bf16", 1, 2, false, true},
    GgmlTypeInfo{GgmlType::kTQ1_0, "tq1_0", 256, 54, true, false},
    GgmlTypeInfo{GgmlType::kTQ2_0, "tq2_0", 256, 66, true, false},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<GgmlTypeInfo> FindGgmlType(uint32_t raw_id) {
  for (const auto& info : kTypes) {
    if (static_cast<uint32_t>(info.type) == raw_id) return info;
  }
  return std::nullopt;
}

const GgmlTypeInfo& TypeInfo(GgmlType type) {
  for (const auto& info : kTypes) {
    if (info.type == type) return info;
  }
  QL_CHECK_MSG(false, "GgmlType value outside the type table");
}

std::optional<GgmlType> GgmlTypeFromName(std::string_view name) {
  for (const auto& info : kTypes) {
    if (EqualsIgnoreCase(info.name, name)) return info.type;
  }
  return std::nullopt;
}

size_t RowBytes(GgmlType type, int64_t n) {
  const auto& info = TypeInfo(type);
  QL_CHECK(n >= 0 && n % info.block_size == 0);
  return static_cast<size_t>(n / info.block_size) * info.block_bytes;
}

}  // namespace quantlab
