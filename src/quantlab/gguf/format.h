// Facts of the GGUF container format shared by the reader and the writer (gguf-py's spec and ggml's
// gguf.cpp agree on them). All integers are little-endian.
//
//   "GGUF" u32 version, i64 tensor count, i64 key/value count
//   key/value pairs: string key, u32 value type, value        (string = u64 length + bytes, no NUL)
//   tensor infos: string name, u32 n_dims, i64 dims[n_dims], u32 ggml type, u64 offset in data section
//   zero padding to the alignment, then the data section: each tensor at its (aligned) offset
#pragma once

#include <cstdint>

namespace quantlab::gguf_format {

inline constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
// Version 1 used 32-bit counts and is rejected (as llama.cpp does); 2 and 3 share one layout (3 only
// allowed big-endian files, which neither quantlab nor llama.cpp on x86 reads). quantlab writes 3.
inline constexpr uint32_t kMinVersion = 2;
inline constexpr uint32_t kWriteVersion = 3;
inline constexpr uint32_t kMaxVersion = 3;
inline constexpr uint32_t kMaxDims = 4;              // GGML_MAX_DIMS
inline constexpr uint64_t kMaxTensorNameBytes = 63;  // ggml keeps names in char[64] with the NUL
inline constexpr uint64_t kMaxAlignment = 1u << 30;  // far above any real value; keeps padding sane
inline constexpr const char* kAlignmentKey = "general.alignment";

inline constexpr uint64_t AlignUp(uint64_t offset, uint64_t alignment) {
  return (offset + alignment - 1) / alignment * alignment;
}
inline constexpr bool IsPowerOfTwo(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

}  // namespace quantlab::gguf_format
