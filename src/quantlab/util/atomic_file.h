// Writes a file atomically: bytes go to a temporary file in the target's folder (same file system, so
// the final rename is atomic), which is flushed to disk and renamed over the target by Commit(). A write
// that fails, or an AtomicFile destroyed without Commit(), removes the temporary file, so a partial file
// never appears under the final name and an earlier file there stays untouched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/util/result.h"

namespace quantlab {

class AtomicFile {
 public:
  // Creates the temporary file next to `path`.
  static Result<AtomicFile> Create(const std::string& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  // Without a successful Commit(), removes the temporary file.
  ~AtomicFile();

  // Appends bytes (buffered).
  Status Write(std::span<const std::byte> bytes);
  Status Write(std::string_view text) { return Write(std::as_bytes(std::span(text.data(), text.size()))); }
  // Appends `count` zero bytes.
  Status WriteZeros(uint64_t count);

  // Flushes, fsyncs, closes and renames the temporary file to the target path, then fsyncs the folder.
  Status Commit();

  uint64_t bytes_written() const { return bytes_written_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFile(std::string path, std::string temp_path, int fd);
  Status Flush();
  void Abandon();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  uint64_t bytes_written_ = 0;
  std::vector<std::byte> buffer_;
};

// Convenience: writes `bytes` to `path` atomically.
Status WriteFileAtomically(const std::string& path, std::span<const std::byte> bytes);

}  // namespace quantlab
