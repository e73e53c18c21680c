// SHA-256, used to key measurements by the content of the model and data they came from. Files are
// streamed in chunks, so hashing a model of many gigabytes needs constant memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "quantlab/util/result.h"

namespace quantlab {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  void Update(std::span<const std::byte> bytes);
  void Update(std::string_view text) { Update(std::as_bytes(std::span(text.data(), text.size()))); }
  // Finishes the hash; the object must not be updated afterwards.
  Digest Finish();

 private:
  void Compress(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> pending_{};
  size_t pending_size_ = 0;
  uint64_t total_bytes_ = 0;
};

// Lower-case hex of a digest (64 characters for SHA-256).
std::string ToHex(std::span<const uint8_t> digest);

std::string Sha256Hex(std::span<const std::byte> bytes);
std::string Sha256Hex(std::string_view text);
// Streams the file; error names the path.
Result<std::string> Sha256FileHex(const std::string& path);

}  // namespace quantlab
