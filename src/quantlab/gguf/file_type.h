// llama.cpp's file types (general.file_type, `enum llama_ftype`): the "recipe" a model was quantized
// with, e.g. Q4_K_M. Values are llama.cpp's so that files and command lines agree with it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace quantlab {

enum class LlamaFileType : uint32_t {
  kAllF32 = 0,
  kMostlyF16 = 1,
  kMostlyQ4_0 = 2,
  kMostlyQ4_1 = 3,
  kMostlyQ8_0 = 7,
  kMostlyQ5_0 = 8,
  kMostlyQ5_1 = 9,
  kMostlyQ2_K = 10,
  kMostlyQ3_K_S = 11,
  kMostlyQ3_K_M = 12,
  kMostlyQ3_K_L = 13,
  kMostlyQ4_K_S = 14,
  kMostlyQ4_K_M = 15,
  kMostlyQ5_K_S = 16,
  kMostlyQ5_K_M = 17,
  kMostlyQ6_K = 18,
  kMostlyIQ2_XXS = 19,
  kMostlyIQ2_XS = 20,
  kMostlyQ2_K_S = 21,
  kMostlyIQ3_XS = 22,
  kMostlyIQ3_XXS = 23,
  kMostlyIQ1_S = 24,
  kMostlyIQ4_NL = 25,
  kMostlyIQ3_S = 26,
  kMostlyIQ3_M = 27,
  kMostlyIQ2_S = 28,
  kMostlyIQ2_M = 29,
  kMostlyIQ4_XS = 30,
  kMostlyIQ1_M = 31,
  kMostlyBF16 = 32,
  kMostlyTQ1_0 = 36,
  kMostlyTQ2_0 = 37,
};

// llama.cpp's flag for a file type guessed from the tensors (not stored in the file).
inline constexpr uint32_t kLlamaFileTypeGuessed = 1024;

struct LlamaFileTypeInfo {
  LlamaFileType type;
  std::string_view short_name;    // as llama-quantize takes it: "Q4_K_M"
  std::string_view display_name;  // as llama.cpp prints it: "Q4_K - Medium"
};

// All known file types in id order.
std::span<const LlamaFileTypeInfo> AllLlamaFileTypes();

// Info for a raw general.file_type value, or nullopt if llama.cpp does not define it.
std::optional<LlamaFileTypeInfo> FindLlamaFileType(uint32_t raw);

// The name llama.cpp prints for a raw value: "Q4_K - Medium", "all F32", "F16 (guessed)", or
// "unknown, may not work" for an undefined value.
std::string LlamaFileTypeName(uint32_t raw);

// Parses a llama-quantize style name, case-insensitively ("q4_k_m", "Q4_K" = Q4_K_M, "F16").
std::optional<LlamaFileType> LlamaFileTypeFromName(std::string_view name);

}  // namespace quantlab
