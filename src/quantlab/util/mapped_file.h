// A read-only memory mapping of a whole file. Model weights are read through this and never copied:
// the kernel pages them in on demand and shares them between processes.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "quantlab/util/result.h"

namespace quantlab {

class MappedFile {
 public:
  // Maps `path` read-only. Returns an error naming the path and the system's reason when the file cannot
  // be opened, is not a regular file, or cannot be mapped. An empty file gives an empty mapping.
  static Result<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  std::span<const std::byte> data() const { return {static_cast<const std::byte*>(address_), size_}; }

 private:
  MappedFile(std::string path, void* address, size_t size)
      : path_(std::move(path)), address_(address), size_(size) {}
  void Release();

  std::string path_;
  void* address_ = nullptr;  // nullptr for an empty file
  size_t size_ = 0;
};

}  // namespace quantlab
