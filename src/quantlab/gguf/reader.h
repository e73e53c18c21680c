// Reads GGUF files (versions 2 and 3). The header, metadata and tensor table are parsed and validated
// once, here at the edge; tensor data stays memory-mapped and is never copied.
//
// Every problem in a file is reported as an Error naming the file, the byte offset and what was wrong:
// truncation, offsets or sizes past the end, misaligned or overlapping tensor data, absurd counts or
// lengths, unknown value/tensor types, duplicate keys or tensor names, overflowing dimension products.
// Counts and lengths are checked against the bytes left before anything is reserved, metadata values are
// capped at 2^24 and array nesting at 8 levels, so memory stays proportional to the file's size.
// Tensor types ggml defines but quantlab cannot compute with (IQ*, TQ*, ...) are read normally; callers
// see them through TypeInfo(type).supported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quantlab/gguf/metadata.h"
#include "quantlab/gguf/types.h"
#include "quantlab/util/result.h"

namespace quantlab {

inline constexpr uint64_t kGgufDefaultAlignment = 32;

struct GgufTensorInfo {
  std::string name;
  // ggml order: shape[0] is the row length (contiguous), shape[1] the number of rows, ...
  std::vector<int64_t> shape;
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // relative to the start of the tensor data section
  uint64_t n_bytes = 0;

  int64_t n_elements() const;
  int64_t n_rows() const { return shape.empty() ? 1 : n_elements() / shape[0]; }
  int64_t row_length() const { return shape.empty() ? 1 : shape[0]; }
};

class MappedFile;

class GgufFile {
 public:
  // Maps and validates `path`. The returned object owns the mapping.
  static Result<GgufFile> Open(const std::string& path);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute offset of the tensor data section
  uint64_t file_size() const;

  const GgufMetadata& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // nullptr when absent.
  const GgufTensorInfo* FindTensor(std::string_view name) const;

  // The tensor's bytes inside the mapping (valid while this object lives).
  std::span<const std::byte> TensorData(const GgufTensorInfo& tensor) const;

 private:
  GgufFile() = default;
  friend class GgufParser;

  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  GgufMetadata metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;  // name -> position in tensors_
  std::span<const std::byte> bytes_;                      // the whole file (inside mapping_ for Open)
  std::unique_ptr<MappedFile> mapping_;
};

// Parses GGUF from bytes already in memory (used by Open and by the fuzz target). `name` is used in
// error messages. Tensor data offsets are validated against `bytes.size()`.
Result<GgufFile> ParseGguf(std::span<const std::byte> bytes, std::string name);

}  // namespace quantlab
