// Builds GGUF bytes field by field, so tests can craft valid and deliberately broken files without
// binary blobs. Offsets of interesting fields are recorded with Mark() for checking error messages.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quantlab::testing {

class GgufBytes {
 public:
  template <typename T>
  GgufBytes& Put(T value) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
    return *this;
  }
  GgufBytes& U8(uint8_t v) { return Put(v); }
  GgufBytes& U32(uint32_t v) { return Put(v); }
  GgufBytes& I32(int32_t v) { return Put(v); }
  GgufBytes& U64(uint64_t v) { return Put(v); }
  GgufBytes& I64(int64_t v) { return Put(v); }
  GgufBytes& F32(float v) { return Put(v); }
  GgufBytes& Raw(std::string_view text) {
    bytes_.insert(bytes_.end(), reinterpret_cast<const std::byte*>(text.data()),
                  reinterpret_cast<const std::byte*>(text.data()) + text.size());
    return *this;
  }
  GgufBytes& Str(std::string_view text) { return U64(text.size()).Raw(text); }

  // "GGUF", version, tensor count, key/value count.
  GgufBytes& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return Raw("GGUF").U32(version).U64(n_tensors).U64(n_kv);
  }
  // Key and type tag; the caller appends the value.
  GgufBytes& Key(std::string_view key, uint32_t type) { return Str(key).U32(type); }
  GgufBytes& KvU32(std::string_view key, uint32_t v) { return Key(key, 4).U32(v); }
  GgufBytes& KvStr(std::string_view key, std::string_view v) { return Key(key, 8).Str(v); }
  // name, dims, ggml type, offset.
  GgufBytes& TensorInfo(std::string_view name, std::vector<int64_t> shape, uint32_t type, uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(shape.size()));
    for (int64_t d : shape) I64(d);
    return U32(type).U64(offset);
  }
  GgufBytes& PadTo(size_t alignment) {
    while (bytes_.size() % alignment != 0) U8(0);
    return *this;
  }
  GgufBytes& Fill(size_t n, uint8_t value) {
    bytes_.insert(bytes_.end(), n, std::byte{value});
    return *this;
  }

  // Records the current offset under `name`.
  GgufBytes& Mark(const std::string& name) {
    marks_[name] = bytes_.size();
    return *this;
  }
  size_t mark(const std::string& name) const { return marks_.at(name); }
  size_t size() const { return bytes_.size(); }
  std::span<const std::byte> span() const { return bytes_; }
  std::vector<std::byte>& bytes() { return bytes_; }
  std::string str() const { return std::string(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()); }

 private:
  std::vector<std::byte> bytes_;
  std::map<std::string, size_t> marks_;
};

}  // namespace quantlab::testing
