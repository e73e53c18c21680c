// The one table of ggml tensor types: id as stored in GGUF, block size, bytes per block, the name
// llama.cpp prints, and whether quantlab can compute with it. Everything that needs per-type facts asks
// this table (or the quant/kernels traits that extend it) instead of switching on the type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace quantlab {

// Values are ggml's `enum ggml_type`; gaps are ids ggml retired (they are rejected as unknown).
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

struct GgmlTypeInfo {
  GgmlType type;
  std::string_view name;  // as llama.cpp prints it, e.g. "q4_K"
  uint32_t block_size;    // elements per block
  uint32_t block_bytes;   // bytes per block
  bool quantized;         // block-quantized (not a plain float/int type)
  bool supported;         // quantlab can quantize/dequantize/compute with it
};

// Returns the info for a raw GGUF type id, or nullopt for an id ggml does not define.
std::optional<GgmlTypeInfo> FindGgmlType(uint32_t raw_id);

// Info for a known type (always present).
const GgmlTypeInfo& TypeInfo(GgmlType type);

// Looks a type up by llama.cpp's name, case-insensitively ("Q4_K", "q4_k", "f16").
std::optional<GgmlType> GgmlTypeFromName(std::string_view name);

inline std::string_view TypeName(GgmlType type) { return TypeInfo(type).name; }

// Bytes a row of `n` elements takes; n must be a multiple of the block size (checked by callers that
// take sizes from files; asserted here).
size_t RowBytes(GgmlType type, int64_t n);

}  // namespace quantlab
