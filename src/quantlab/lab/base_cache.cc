#include "quantlab/lab/base_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "quantlab/util/check.h"

namespace quantlab::lab {
namespace {

constexpr char kMagic[8] = {'Q', 'L', 'B', 'A', 'S', 'E', 'L', 'P'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kRecordMagic = 0x4B434C51;  // "QLCK"
constexpr size_t kHashChars = 64;
// magic, version, n_ctx, n_scored, n_vocab, three hashes.
constexpr uint64_t kHeaderBytes = sizeof(kMagic) + 4 * sizeof(uint32_t) + 3 * kHashChars;
// magic, chunk, nll count, sum, sum_sq (before the targets); checksum after the log-probs.
constexpr uint64_t kRecordHeadBytes = 2 * sizeof(uint32_t) + sizeof(int64_t) + 2 * sizeof(double);

template <typename T>
void Append(std::vector<std::byte>& out, const T& value) {
  const auto* p = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

template <typename T>
T ReadAt(const std::vector<std::byte>& in, size_t offset) {
  T value;
  std::memcpy(&value, in.data() + offset, sizeof(T));
  return value;
}

void AppendHash(std::vector<std::byte>& out, const std::string& hash) {
  std::string fixed = hash.substr(0, kHashChars);
  fixed.resize(kHashChars, ' ');
  const auto* p = reinterpret_cast<const std::byte*>(fixed.data());
  out.insert(out.end(), p, p + kHashChars);
}

std::vector<std::byte> HeaderBytes(const BaseCacheIdentity& id) {
  std::vector<std::byte> h;
  const auto* m = reinterpret_cast<const std::byte*>(kMagic);
  h.insert(h.end(), m, m + sizeof(kMagic));
  Append(h, kVersion);
  Append(h, static_cast<uint32_t>(id.n_ctx));
  Append(h, static_cast<uint32_t>(id.n_scored));
  Append(h, static_cast<uint32_t>(id.n_vocab));
  AppendHash(h, id.model_hash);
  AppendHash(h, id.data_hash);
  AppendHash(h, id.tokens_hash);
  return h;
}

// FNV-1a over 64-bit words (the tail byte-wise): cheap enough for tens of MB per chunk, and any torn or
// damaged record fails it. Fed piece by piece (a record's head, targets and log-probabilities are hashed
// where they lie, never copied into one buffer), it gives what one pass over their concatenation gives.
class RecordChecksum {
 public:
  void Add(std::span<const std::byte> bytes) {
    size_t i = 0;
    while (n_tail_ > 0 && n_tail_ < 8 && i < bytes.size()) tail_[n_tail_++] = bytes[i++];
    if (n_tail_ == 8) {
      AddWord(tail_);
      n_tail_ = 0;
    }
    for (; i + 8 <= bytes.size(); i += 8) AddWord(bytes.data() + i);
    for (; i < bytes.size(); ++i) tail_[n_tail_++] = bytes[i];
  }
  uint64_t Finish() const {
    uint64_t h = h_;
    for (size_t i = 0; i < n_tail_; ++i) h = (h ^ static_cast<uint8_t>(tail_[i])) * kPrime;
    return h;
  }

 private:
  static constexpr uint64_t kPrime = 0x100000001b3ull;
  void AddWord(const std::byte* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h_ = (h_ ^ w) * kPrime;
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
  std::byte tail_[8] = {};
  size_t n_tail_ = 0;
};

Status WriteAll(int fd, std::span<const std::byte> bytes, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return MakeError("{}: cannot write the base log-probability cache: {}", path, std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Status ReadInto(int fd, std::span<std::byte> out, uint64_t offset, const std::string& path) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return MakeError("{}: cannot read the base log-probability cache: {}", path, std::strerror(errno));
    if (n == 0) return MakeError("{}: the base log-probability cache ends at offset {}", path, offset + done);
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<std::vector<std::byte>> ReadAll(int fd, uint64_t bytes, uint64_t offset, const std::string& path) {
  std::vector<std::byte> out(bytes);
  QL_RETURN_IF_ERROR(ReadInto(fd, out, offset, path));
  return out;
}

// The fixed fields that open a record, in file order.
struct RecordHead {
  uint32_t magic = kRecordMagic;
  int32_t chunk = 0;
  int64_t nll_count = 0;
  double nll_sum = 0;
  double nll_sum_sq = 0;
};
static_assert(sizeof(RecordHead) == kRecordHeadBytes, "the record head has no padding");

}  // namespace

uint64_t BaseCacheIdentity::RecordBytes() const {
  return kRecordHeadBytes + sizeof(int32_t) * static_cast<uint64_t>(n_scored) +
         sizeof(float) * static_cast<uint64_t>(n_scored) * static_cast<uint64_t>(n_vocab) + sizeof(uint64_t);
}

Result<std::unique_ptr<BaseLogProbCache>> BaseLogProbCache::Open(const std::string& path,
                                                                 const BaseCacheIdentity& id,
                                                                 std::string* note) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return MakeError("{}: cannot open the base log-probability cache: {}", path, std::strerror(errno));
  std::unique_ptr<BaseLogProbCache> cache(new BaseLogProbCache(path, id, fd));
  QL_RETURN_IF_ERROR(cache->ReadIndex(note));
  return cache;
}

BaseLogProbCache::~BaseLogProbCache() {
  if (fd_ >= 0) ::close(fd_);
}

Status BaseLogProbCache::Start() {
  if (::ftruncate(fd_, 0) != 0)
    return MakeError("{}: cannot empty the cache: {}", path_, std::strerror(errno));
  const std::vector<std::byte> header = HeaderBytes(id_);
  QL_RETURN_IF_ERROR(WriteAll(fd_, header, 0, path_));
  if (::fdatasync(fd_) != 0) return MakeError("{}: cannot sync the cache: {}", path_, std::strerror(errno));
  end_ = header.size();
  offsets_.clear();
  return Ok();
}

Status BaseLogProbCache::ReadIndex(std::string* note) {
  const off_t size = ::lseek(fd_, 0, SEEK_END);
  if (size < 0) return MakeError("{}: cannot size the cache: {}", path_, std::strerror(errno));
  const auto restart = [&](const std::string& why) -> Status {
    if (note) *note = why;
    return Start();
  };
  if (size == 0) return Start();
  if (static_cast<uint64_t>(size) < kHeaderBytes) return restart("its header is truncated");
  QL_ASSIGN_OR_RETURN(auto header, ReadAll(fd_, kHeaderBytes, 0, path_));
  if (header != HeaderBytes(id_)) {
    return restart("it was made for another base model, text, context or vocabulary (or is not a cache)");
  }
  const uint64_t record = id_.RecordBytes();
  const uint64_t n_records = (static_cast<uint64_t>(size) - kHeaderBytes) / record;
  for (uint64_t r = 0; r < n_records; ++r) {
    const uint64_t offset = kHeaderBytes + r * record;
    QL_ASSIGN_OR_RETURN(auto head, ReadAll(fd_, 2 * sizeof(uint32_t), offset, path_));
    const int chunk = ReadAt<int32_t>(head, sizeof(uint32_t));
    if (ReadAt<uint32_t>(head, 0) != kRecordMagic || chunk < 0 || offsets_.count(chunk)) {
      return restart(fmt::format("record {} is damaged", r));
    }
    offsets_[chunk] = offset;
  }
  end_ = kHeaderBytes + n_records * record;
  if (static_cast<uint64_t>(size) != end_) {
    // A kill while a record was being appended: keep the complete ones.
    if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0)
      return MakeError("{}: cannot cut the partial last record: {}", path_, std::strerror(errno));
    if (note) *note = "its last record was incomplete and has been cut off";
  }
  return Ok();
}

Status BaseLogProbCache::Put(const BaseChunkLogProbs& chunk) {
  if (Has(chunk.index)) return Ok();
  if (chunk.n_vocab != id_.n_vocab || static_cast<int>(chunk.targets.size()) != id_.n_scored ||
      chunk.log_probs.size() != static_cast<size_t>(id_.n_scored) * id_.n_vocab) {
    return MakeError("{}: chunk {} has {} scored positions of {} tokens, the cache holds {} of {}", path_,
                     chunk.index, chunk.targets.size(), chunk.n_vocab, id_.n_scored, id_.n_vocab);
  }
  // The record is written piece by piece from where its parts lie (the log-probabilities are tens of MB
  // per chunk); a kill between the pieces leaves a partial record, which Open cuts off.
  const RecordHead head{.chunk = static_cast<int32_t>(chunk.index),
                        .nll_count = chunk.base_nll.count,
                        .nll_sum = chunk.base_nll.sum,
                        .nll_sum_sq = chunk.base_nll.sum_sq};
  const std::span<const std::byte> pieces[] = {std::as_bytes(std::span(&head, 1)),
                                               std::as_bytes(std::span(chunk.targets)),
                                               std::as_bytes(std::span(chunk.log_probs))};
  RecordChecksum checksum;
  uint64_t at = end_;
  for (const auto& piece : pieces) {
    checksum.Add(piece);
    QL_RETURN_IF_ERROR(WriteAll(fd_, piece, at, path_));
    at += piece.size();
  }
  const uint64_t sum = checksum.Finish();
  QL_RETURN_IF_ERROR(WriteAll(fd_, std::as_bytes(std::span(&sum, 1)), at, path_));
  at += sizeof(sum);
  QL_CHECK(at - end_ == id_.RecordBytes());
  if (::fdatasync(fd_) != 0) return MakeError("{}: cannot sync the cache: {}", path_, std::strerror(errno));
  offsets_[chunk.index] = end_;
  end_ = at;
  return Ok();
}

Result<BaseChunkLogProbs> BaseLogProbCache::Get(int chunk) const {
  const auto it = offsets_.find(chunk);
  if (it == offsets_.end())
    return MakeError("{}: chunk {} is not in the base log-probability cache", path_, chunk);
  // Read straight into the result's vectors (no record-sized buffer), then check the whole record.
  BaseChunkLogProbs b;
  b.index = chunk;
  b.n_vocab = id_.n_vocab;
  b.targets.resize(id_.n_scored);
  b.log_probs.resize(static_cast<size_t>(id_.n_scored) * id_.n_vocab);
  RecordHead head;
  uint64_t stored = 0;
  const std::span<std::byte> pieces[] = {std::as_writable_bytes(std::span(&head, 1)),
                                         std::as_writable_bytes(std::span(b.targets)),
                                         std::as_writable_bytes(std::span(b.log_probs))};
  RecordChecksum checksum;
  uint64_t at = it->second;
  for (const auto& piece : pieces) {
    QL_RETURN_IF_ERROR(ReadInto(fd_, piece, at, path_));
    checksum.Add(piece);
    at += piece.size();
  }
  QL_RETURN_IF_ERROR(ReadInto(fd_, std::as_writable_bytes(std::span(&stored, 1)), at, path_));
  if (stored != checksum.Finish() || head.magic != kRecordMagic || head.chunk != chunk) {
    return MakeError("{}: the record of chunk {} (offset {}) is damaged; delete the file to have it rebuilt",
                     path_, chunk, it->second);
  }
  b.base_nll.count = head.nll_count;
  b.base_nll.sum = head.nll_sum;
  b.base_nll.sum_sq = head.nll_sum_sq;
  return b;
}

}  // namespace quantlab::lab
