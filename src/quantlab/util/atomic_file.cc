#include "quantlab/util/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

namespace quantlab {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;

std::string ParentFolder(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

Result<AtomicFile> AtomicFile::Create(const std::string& path) {
  if (path.empty()) return MakeError("cannot write a file with an empty name");
  const std::filesystem::path target(path);
  // mkstemp wants a writable template; the leading dot hides the file from casual listings.
  std::string temp =
      (target.parent_path() / fmt::format(".{}.tmp-XXXXXX", target.filename().string())).string();
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return MakeError("{}: cannot create a temporary file in {}: {}", path, ParentFolder(path),
                     std::strerror(errno));
  // mkstemp creates 0600; outputs are meant to be shared like any other file. (Reading the umask would
  // mean changing it, which races with other threads.)
  ::fchmod(fd, 0644);
  return AtomicFile(path, std::move(temp), fd);
}

AtomicFile::AtomicFile(std::string path, std::string temp_path, int fd)
    : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd) {
  buffer_.reserve(kBufferBytes);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      committed_(other.committed_),
      bytes_written_(other.bytes_written_),
      buffer_(std::move(other.buffer_)) {
  other.committed_ = true;  // the moved-from object owns nothing to clean up
}

AtomicFile::~AtomicFile() {
  if (!committed_) Abandon();
}

void AtomicFile::Abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
  committed_ = true;
}

Status AtomicFile::Flush() {
  const uint64_t start = bytes_written_ - buffer_.size();  // file offset of the buffer's first byte
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return MakeError("{}: write failed after {} bytes: {}", path_, bytes_written_ - buffer_.size() + done,
                       std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
#ifdef __linux__
  // Start writing this range to disk now, without waiting: Commit()'s fsync then has little left to
  // do, so durability costs almost no wall time (a model file is written at disk speed, not written
  // to the page cache first and flushed in one long wait at the end).
  if (done > 0)
    ::sync_file_range(fd_, static_cast<off_t>(start), static_cast<off_t>(done), SYNC_FILE_RANGE_WRITE);
#endif
  buffer_.clear();
  return Ok();
}

Status AtomicFile::Write(std::span<const std::byte> bytes) {
  if (fd_ < 0) return MakeError("{}: write after the file was committed or abandoned", path_);
  while (!bytes.empty()) {
    const size_t room = kBufferBytes - buffer_.size();
    const size_t n = std::min(room, bytes.size());
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    bytes_written_ += n;
    bytes = bytes.subspan(n);
    if (buffer_.size() == kBufferBytes) {
      Status status = Flush();
      if (!status.ok()) {
        Abandon();
        return status;
      }
    }
  }
  return Ok();
}

Status AtomicFile::WriteZeros(uint64_t count) {
  static const std::byte kZeros[4096] = {};
  while (count > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(count, sizeof(kZeros)));
    QL_RETURN_IF_ERROR(Write(std::span(kZeros, n)));
    count -= n;
  }
  return Ok();
}

Status AtomicFile::Commit() {
  if (fd_ < 0) return MakeError("{}: commit after the file was committed or abandoned", path_);
  Status status = Flush();
  if (status.ok() && ::fsync(fd_) != 0)
    status = MakeError("{}: fsync failed: {}", path_, std::strerror(errno));
  if (status.ok()) {
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) status = MakeError("{}: close failed: {}", path_, std::strerror(errno));
  }
  if (status.ok() && ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    status = MakeError("{}: cannot rename {} into place: {}", path_, temp_path_, std::strerror(errno));
  }
  if (!status.ok()) {
    Abandon();
    return status;
  }
  committed_ = true;
  // Make the rename itself durable.
  const int dir = ::open(ParentFolder(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Ok();
}

Status WriteFileAtomically(const std::string& path, std::span<const std::byte> bytes) {
  QL_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::Create(path));
  QL_RETURN_IF_ERROR(file.Write(bytes));
  return file.Commit();
}

}  // namespace quantlab
