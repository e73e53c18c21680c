#include "quantlab/gguf/file_type.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace quantlab {
namespace {

using T = LlamaFileType;

// Display names are the strings llama.cpp's model loader prints for "file type".
constexpr std::array kFileTypes = {
    LlamaFileTypeInfo{T::kAllF32, "F32", "all F32"},
    LlamaFileTypeInfo{T::kMostlyF16, "F16", "F16"},
    LlamaFileTypeInfo{T::kMostlyQ4_0, "Q4_0", "Q4_0"},
    LlamaFileTypeInfo{T::kMostlyQ4_1, "Q4_1", "Q4_1"},
    LlamaFileTypeInfo{T::kMostlyQ8_0, "Q8_0", "Q8_0"},
    LlamaFileTypeInfo{T::kMostlyQ5_0, "Q5_0", "Q5_0"},
    LlamaFileTypeInfo{T::kMostlyQ5_1, "Q5_1", "Q5_1"},
    LlamaFileTypeInfo{T::kMostlyQ2_K, "Q2_K", "Q2_K - Medium"},
    LlamaFileTypeInfo{T::kMostlyQ3_K_S, "Q3_K_S", "Q3_K - Small"},
    LlamaFileTypeInfo{T::kMostlyQ3_K_M, "Q3_K_M", "Q3_K - Medium"},
    LlamaFileTypeInfo{T::kMostlyQ3_K_L, "Q3_K_L", "Q3_K - Large"},
    LlamaFileTypeInfo{T::kMostlyQ4_K_S, "Q4_K_S", "Q4_K - Small"},
    LlamaFileTypeInfo{T::kMostlyQ4_K_M, "Q4_K_M", "Q4_K - Medium"},
    LlamaFileTypeInfo{T::kMostlyQ5_K_S, "Q5_K_S", "Q5_K - Small"},
    LlamaFileTypeInfo{T::kMostlyQ5_K_M, "Q5_K_M", "Q5_K - Medium"},
    LlamaFileTypeInfo{T::kMostlyQ6_K, "Q6_K", "Q6_K"},
    LlamaFileTypeInfo{T::kMostlyIQ2_XXS, "IQ2_XXS", "IQ2_XXS - 2.0625 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ2_XS, "IQ2_XS", "IQ2_XS - 2.3125 bpw"},
    LlamaFileTypeInfo{T::kMostlyQ2_K_S, "Q2_K_S", "Q2_K - Small"},
    LlamaFileTypeInfo{T::kMostlyIQ3_XS, "IQ3_XS", "IQ3_XS - 3.3 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ3_XXS, "IQ3_XXS", "IQ3_XXS - 3.0625 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ1_S, "IQ1_S", "IQ1_S - 1.5625 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ4_NL, "IQ4_NL", "IQ4_NL - 4.5 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ3_S, "IQ3_S", "IQ3_S - 3.4375 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ3_M, "IQ3_M", "IQ3_S mix - 3.66 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ2_S, "IQ2_S", "IQ2_S - 2.5 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ2_M, "IQ2_M", "IQ2_M - 2.7 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ4_XS, "IQ4_XS", "IQ4_XS - 4.25 bpw"},
    LlamaFileTypeInfo{T::kMostlyIQ1_M, "IQ1_M", "IQ1_M - 1.75 bpw"},
    LlamaFileTypeInfo{T::kMostlyBF16, "BF16", "BF16"},
    LlamaFileTypeInfo{T::kMostlyTQ1_0, "TQ1_0", "TQ1_0 - 1.69 bpw ternary"},
    LlamaFileTypeInfo{T::kMostlyTQ2_0, "TQ2_0", "TQ2_0 - 2.06 bpw ternary"},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::span<const LlamaFileTypeInfo> AllLlamaFileTypes() { return kFileTypes; }

std::optional<LlamaFileTypeInfo> FindLlamaFileType(uint32_t raw) {
  for (const auto& info : kFileTypes) {
    if (static_cast<uint32_t>(info.type) == raw) return info;
  }
  return std::nullopt;
}

std::string LlamaFileTypeName(uint32_t raw) {
  if (raw & kLlamaFileTypeGuessed) return LlamaFileTypeName(raw & ~kLlamaFileTypeGuessed) + " (guessed)";
  const auto info = FindLlamaFileType(raw);
  return info ? std::string(info->display_name) : std::string("unknown, may not work");
}

std::optional<LlamaFileType> LlamaFileTypeFromName(std::string_view name) {
  // llama-quantize's aliases: the bare K names mean the Medium mixes.
  if (EqualsIgnoreCase(name, "Q3_K")) return T::kMostlyQ3_K_M;
  if (EqualsIgnoreCase(name, "Q4_K")) return T::kMostlyQ4_K_M;
  if (EqualsIgnoreCase(name, "Q5_K")) return T::kMostlyQ5_K_M;
  for (const auto& info : kFileTypes) {
    if (EqualsIgnoreCase(info.short_name, name)) return info.type;
  }
  return std::nullopt;
}

}  // namespace quantlab
