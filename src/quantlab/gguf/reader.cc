#include "quantlab/gguf/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>

#include "quantlab/gguf/format.h"
#include "quantlab/util/mapped_file.h"

namespace quantlab {

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace {

namespace fmtspec = gguf_format;

// Caps that keep hostile files from costing more than their size in memory or stack. Each value decoded
// costs roughly 50 bytes of GgufValue; real vocabularies hold well under a million values.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 24;
constexpr int kMaxArrayDepth = 8;

bool IsKnownValueType(uint32_t raw) { return raw <= static_cast<uint32_t>(GgufValueType::kFloat64); }

// The fewest bytes one encoded value of `type` can take; used to reject counts the remaining bytes
// cannot possibly hold before anything is allocated.
uint64_t MinEncodedBytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
    case GgufValueType::kString:
      return 8;  // a string is at least its length field
    case GgufValueType::kArray:
      return 12;  // element type + count
  }
  return 1;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

}  // namespace

int64_t GgufTensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated not to overflow when read
  return n;
}

// Parses and validates the header, metadata and tensor table of a GGUF file held in memory.
class GgufParser {
 public:
  GgufParser(std::span<const std::byte> bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  Result<GgufFile> Parse() {
    GgufFile file;
    file.path_ = name_;
    file.bytes_ = bytes_;
    QL_RETURN_IF_ERROR(ParseHeader(file));
    QL_RETURN_IF_ERROR(ParseMetadata(file));
    QL_RETURN_IF_ERROR(ReadAlignment(file));
    QL_RETURN_IF_ERROR(ParseTensorInfos(file));
    QL_RETURN_IF_ERROR(ValidateTensorData(file));
    return file;
  }

 private:
  template <typename... Args>
  Error ErrorAt(uint64_t offset, fmt::format_string<Args...> format, Args&&... args) const {
    return MakeError("{}: at byte {}: {}", name_, offset, fmt::format(format, std::forward<Args>(args)...));
  }

  uint64_t remaining() const { return bytes_.size() - pos_; }

  // Fails unless `n` more bytes are present; `what` says what was being read.
  Status Need(uint64_t n, std::string_view what) const {
    if (n > remaining()) {
      return ErrorAt(pos_, "file truncated: {} needs {} bytes but only {} remain (file size {})", what, n,
                     remaining(), bytes_.size());
    }
    return Ok();
  }

  template <typename T>
  Result<T> Read(std::string_view what) {
    QL_RETURN_IF_ERROR(Need(sizeof(T), what));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  Result<std::string> ReadString(std::string_view what) {
    const uint64_t start = pos_;
    QL_ASSIGN_OR_RETURN(uint64_t length, Read<uint64_t>(what));
    if (length > remaining()) {
      return ErrorAt(start, "{} has length {} but only {} bytes remain in the file", what, length,
                     remaining());
    }
    std::string text(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(length));
    pos_ += length;
    return text;
  }

  Result<GgufValueType> ReadValueType(std::string_view what) {
    const uint64_t start = pos_;
    QL_ASSIGN_OR_RETURN(uint32_t raw, Read<uint32_t>(what));
    if (!IsKnownValueType(raw))
      return ErrorAt(start, "{} is {}, not a known GGUF value type (0..12)", what, raw);
    return static_cast<GgufValueType>(raw);
  }

  Status CountValue(std::string_view key) {
    if (++values_read_ > kMaxMetadataValues) {
      return ErrorAt(pos_, "key '{}': more than {} metadata values in the file", key, kMaxMetadataValues);
    }
    return Ok();
  }

  Result<GgufValue> ReadValue(GgufValueType type, std::string_view key, int depth) {
    QL_RETURN_IF_ERROR(CountValue(key));
    switch (type) {
      case GgufValueType::kUint8:
        return ReadUnsigned<uint8_t>(type);
      case GgufValueType::kUint16:
        return ReadUnsigned<uint16_t>(type);
      case GgufValueType::kUint32:
        return ReadUnsigned<uint32_t>(type);
      case GgufValueType::kUint64:
        return ReadUnsigned<uint64_t>(type);
      case GgufValueType::kInt8:
        return ReadSigned<int8_t>(type);
      case GgufValueType::kInt16:
        return ReadSigned<int16_t>(type);
      case GgufValueType::kInt32:
        return ReadSigned<int32_t>(type);
      case GgufValueType::kInt64:
        return ReadSigned<int64_t>(type);
      case GgufValueType::kFloat32: {
        QL_ASSIGN_OR_RETURN(float v, Read<float>("f32 value"));
        return GgufValue::F32(v);
      }
      case GgufValueType::kFloat64: {
        QL_ASSIGN_OR_RETURN(double v, Read<double>("f64 value"));
        return GgufValue::F64(v);
      }
      case GgufValueType::kBool: {
        const uint64_t start = pos_;
        QL_ASSIGN_OR_RETURN(uint8_t v, Read<uint8_t>("bool value"));
        if (v > 1) return ErrorAt(start, "key '{}': bool value is {}, must be 0 or 1", key, v);
        return GgufValue::Bool(v == 1);
      }
      case GgufValueType::kString: {
        QL_ASSIGN_OR_RETURN(std::string v, ReadString("string value"));
        return GgufValue::Str(std::move(v));
      }
      case GgufValueType::kArray:
        return ReadArray(key, depth);
    }
    return ErrorAt(pos_, "key '{}': unreachable value type", key);
  }

  template <typename T>
  Result<GgufValue> ReadUnsigned(GgufValueType type) {
    QL_ASSIGN_OR_RETURN(T v, Read<T>("integer value"));
    return GgufValue{type, uint64_t{v}};
  }
  template <typename T>
  Result<GgufValue> ReadSigned(GgufValueType type) {
    QL_ASSIGN_OR_RETURN(T v, Read<T>("integer value"));
    return GgufValue{type, int64_t{v}};
  }

  Result<GgufValue> ReadArray(std::string_view key, int depth) {
    const uint64_t start = pos_;
    if (depth >= kMaxArrayDepth) {
      return ErrorAt(start, "key '{}': arrays nested more than {} deep", key, kMaxArrayDepth);
    }
    QL_ASSIGN_OR_RETURN(GgufValueType element_type, ReadValueType("array element type"));
    const uint64_t count_offset = pos_;
    QL_ASSIGN_OR_RETURN(uint64_t count, Read<uint64_t>("array length"));
    // Check the count against the bytes left before reserving anything: a few bytes of file can claim
    // 2^64 elements.
    const uint64_t min_bytes = MinEncodedBytes(element_type);
    if (count > remaining() / min_bytes) {
      return ErrorAt(
          count_offset, "key '{}': array of {} {} values needs at least {} bytes but only {} remain", key,
          count, GgufValueTypeName(element_type),
          count > std::numeric_limits<uint64_t>::max() / min_bytes ? std::string("2^64 or more")
                                                                   : fmt::format("{}", count * min_bytes),
          remaining());
    }
    std::vector<GgufValue> items;
    items.reserve(static_cast<size_t>(count));
    for (uint64_t i = 0; i < count; ++i) {
      QL_ASSIGN_OR_RETURN(GgufValue item, ReadValue(element_type, key, depth + 1));
      items.push_back(std::move(item));
    }
    return GgufValue::Array(element_type, std::move(items));
  }

  Status ParseHeader(GgufFile& file) {
    QL_RETURN_IF_ERROR(Need(4, "the magic"));
    if (std::memcmp(bytes_.data(), fmtspec::kMagic, 4) != 0) {
      std::string shown;
      for (size_t i = 0; i < 4; ++i) {
        const auto c = static_cast<unsigned char>(bytes_[i]);
        shown += (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
      }
      return ErrorAt(0, "not a GGUF file: magic is '{}', expected 'GGUF'", shown);
    }
    pos_ = 4;
    QL_ASSIGN_OR_RETURN(uint32_t version, Read<uint32_t>("the version"));
    if (version < fmtspec::kMinVersion || version > fmtspec::kMaxVersion) {
      const uint32_t swapped = __builtin_bswap32(version);
      if (swapped >= fmtspec::kMinVersion && swapped <= fmtspec::kMaxVersion) {
        return ErrorAt(4, "version field reads {}: this is a big-endian GGUF file, which is not supported",
                       version);
      }
      return ErrorAt(4, "unsupported GGUF version {} (supported: {} to {})", version, fmtspec::kMinVersion,
                     fmtspec::kMaxVersion);
    }
    file.version_ = version;
    QL_ASSIGN_OR_RETURN(uint64_t n_tensors, Read<uint64_t>("the tensor count"));
    QL_ASSIGN_OR_RETURN(uint64_t n_kv, Read<uint64_t>("the key/value count"));
    // Each key/value pair takes at least 13 bytes and each tensor info 24: counts that cannot fit in
    // the file are corrupt, whatever follows.
    constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
    constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;
    if (n_tensors > remaining() / kMinTensorInfoBytes) {
      return ErrorAt(
          8, "tensor count {} is impossible: tensor infos take at least {} bytes each and only {} remain",
          static_cast<int64_t>(n_tensors), kMinTensorInfoBytes, remaining());
    }
    if (n_kv > remaining() / kMinKvBytes ||
        n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes > remaining()) {
      return ErrorAt(16,
                     "key/value count {} is impossible: with {} tensors it needs more than the {} bytes left",
                     static_cast<int64_t>(n_kv), n_tensors, remaining());
    }
    n_tensors_ = n_tensors;
    n_kv_ = n_kv;
    return Ok();
  }

  Status ParseMetadata(GgufFile& file) {
    std::unordered_map<std::string, uint64_t> key_offsets;
    for (uint64_t i = 0; i < n_kv_; ++i) {
      const uint64_t key_offset = pos_;
      QL_ASSIGN_OR_RETURN(std::string key, ReadString(fmt::format("key of metadata entry {}", i)));
      if (auto [it, inserted] = key_offsets.emplace(key, key_offset); !inserted) {
        return ErrorAt(key_offset, "duplicate metadata key '{}' (first defined at byte {})", key, it->second);
      }
      QL_ASSIGN_OR_RETURN(GgufValueType type, ReadValueType(fmt::format("value type of key '{}'", key)));
      const uint64_t value_offset = pos_;
      QL_ASSIGN_OR_RETURN(GgufValue value, ReadValue(type, key, 0));
      if (key == fmtspec::kAlignmentKey) alignment_offset_ = value_offset;
      file.metadata_.Set(std::move(key), std::move(value));
    }
    return Ok();
  }

  Status ReadAlignment(GgufFile& file) {
    const GgufValue* value = file.metadata_.Find(fmtspec::kAlignmentKey);
    if (value == nullptr) return Ok();
    const std::optional<uint64_t> alignment = value->AsUint();
    if (!alignment) {
      return ErrorAt(alignment_offset_, "{} must be an unsigned integer, got {} {}", fmtspec::kAlignmentKey,
                     GgufValueTypeName(value->type), value->ToDisplayString());
    }
    if (!fmtspec::IsPowerOfTwo(*alignment) || *alignment > fmtspec::kMaxAlignment) {
      return ErrorAt(alignment_offset_, "{} is {}: must be a power of two no larger than {}",
                     fmtspec::kAlignmentKey, *alignment, fmtspec::kMaxAlignment);
    }
    file.alignment_ = *alignment;
    return Ok();
  }

  Status ParseTensorInfos(GgufFile& file) {
    file.tensors_.reserve(static_cast<size_t>(n_tensors_));
    tensor_info_offsets_.reserve(static_cast<size_t>(n_tensors_));
    for (uint64_t i = 0; i < n_tensors_; ++i) {
      const uint64_t info_offset = pos_;
      QL_ASSIGN_OR_RETURN(GgufTensorInfo info, ReadTensorInfo(i));
      if (auto [it, inserted] = file.tensor_index_.emplace(info.name, file.tensors_.size()); !inserted) {
        return ErrorAt(info_offset, "duplicate tensor name '{}' (first defined at byte {})", info.name,
                       tensor_info_offsets_[it->second]);
      }
      tensor_info_offsets_.push_back(info_offset);
      file.tensors_.push_back(std::move(info));
    }
    file.data_offset_ = fmtspec::AlignUp(pos_, file.alignment_);
    return Ok();
  }

  Result<GgufTensorInfo> ReadTensorInfo(uint64_t index) {
    GgufTensorInfo info;
    const uint64_t name_offset = pos_;
    QL_ASSIGN_OR_RETURN(info.name, ReadString(fmt::format("name of tensor {}", index)));
    if (info.name.size() > fmtspec::kMaxTensorNameBytes) {
      return ErrorAt(name_offset, "tensor {} name is {} bytes long; ggml allows at most {}", index,
                     info.name.size(), fmtspec::kMaxTensorNameBytes);
    }
    const uint64_t dims_offset = pos_;
    QL_ASSIGN_OR_RETURN(uint32_t n_dims, Read<uint32_t>("tensor dimension count"));
    if (n_dims > fmtspec::kMaxDims) {
      return ErrorAt(dims_offset, "tensor '{}' has {} dimensions; at most {} are allowed", info.name, n_dims,
                     fmtspec::kMaxDims);
    }
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim_offset = pos_;
      QL_ASSIGN_OR_RETURN(int64_t dim, Read<int64_t>("tensor dimension"));
      if (dim < 0) return ErrorAt(dim_offset, "tensor '{}' dimension {} is negative ({})", info.name, d, dim);
      info.shape.push_back(dim);
      if (__builtin_mul_overflow(n_elements, dim, &n_elements)) {
        return ErrorAt(dim_offset, "tensor '{}' shape {}...: element count overflows 64 bits", info.name,
                       ShapeString(info.shape));
      }
    }
    const uint64_t type_offset = pos_;
    QL_ASSIGN_OR_RETURN(uint32_t raw_type, Read<uint32_t>("tensor type"));
    const std::optional<GgmlTypeInfo> type = FindGgmlType(raw_type);
    if (!type) return ErrorAt(type_offset, "tensor '{}' has unknown ggml type id {}", info.name, raw_type);
    info.type = type->type;
    if (info.row_length() % type->block_size != 0) {
      return ErrorAt(type_offset,
                     "tensor '{}' of type {} has rows of {} elements, not a multiple of its block size {}",
                     info.name, type->name, info.row_length(), type->block_size);
    }
    const uint64_t n_blocks = static_cast<uint64_t>(n_elements) / type->block_size;
    if (__builtin_mul_overflow(n_blocks, uint64_t{type->block_bytes}, &info.n_bytes)) {
      return ErrorAt(type_offset, "tensor '{}' shape {} of type {}: byte size overflows 64 bits", info.name,
                     ShapeString(info.shape), type->name);
    }
    QL_ASSIGN_OR_RETURN(info.offset, Read<uint64_t>("tensor data offset"));
    return info;
  }

  Status ValidateTensorData(const GgufFile& file) {
    if (file.tensors_.empty()) return Ok();
    const uint64_t size = bytes_.size();
    if (file.data_offset_ > size) {
      return ErrorAt(
          pos_, "file truncated: the tensor data section would start at byte {} but the file is {} bytes",
          file.data_offset_, size);
    }
    const uint64_t data_size = size - file.data_offset_;
    for (size_t i = 0; i < file.tensors_.size(); ++i) {
      const GgufTensorInfo& t = file.tensors_[i];
      // The offset field is the last 8 bytes of the tensor's info record.
      const uint64_t field = InfoEndOffset(i) - 8;
      if (t.offset % file.alignment_ != 0) {
        return ErrorAt(field, "tensor '{}' data offset {} is not a multiple of the alignment {}", t.name,
                       t.offset, file.alignment_);
      }
      if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
        return ErrorAt(
            field,
            "tensor '{}' data ({} bytes at data offset {}, file byte {}) extends past the end of the "
            "file ({} bytes)",
            t.name, t.n_bytes, t.offset, file.data_offset_ + std::min(t.offset, data_size), size);
      }
    }
    std::vector<size_t> order(file.tensors_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return file.tensors_[a].offset < file.tensors_[b].offset; });
    const GgufTensorInfo* previous = nullptr;
    for (size_t index : order) {
      const GgufTensorInfo& t = file.tensors_[index];
      if (t.n_bytes == 0) continue;  // an empty tensor occupies nothing
      if (previous != nullptr && previous->offset + previous->n_bytes > t.offset) {
        return ErrorAt(InfoEndOffset(index) - 8,
                       "tensor '{}' data [{}, {}) overlaps tensor '{}' data [{}, {}) (data section offsets)",
                       t.name, t.offset, t.offset + t.n_bytes, previous->name, previous->offset,
                       previous->offset + previous->n_bytes);
      }
      previous = &t;
    }
    return Ok();
  }

  uint64_t InfoEndOffset(size_t index) const {
    return index + 1 < tensor_info_offsets_.size() ? tensor_info_offsets_[index + 1] : tensor_infos_end();
  }
  uint64_t tensor_infos_end() const { return pos_; }

  std::span<const std::byte> bytes_;
  std::string name_;
  uint64_t pos_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  uint64_t values_read_ = 0;
  uint64_t alignment_offset_ = 0;
  std::vector<uint64_t> tensor_info_offsets_;
};

Result<GgufFile> ParseGguf(std::span<const std::byte> bytes, std::string name) {
  return GgufParser(bytes, std::move(name)).Parse();
}

Result<GgufFile> GgufFile::Open(const std::string& path) {
  QL_ASSIGN_OR_RETURN(MappedFile mapping, MappedFile::Open(path));
  auto owned = std::make_unique<MappedFile>(std::move(mapping));
  QL_ASSIGN_OR_RETURN(GgufFile file, ParseGguf(owned->data(), path));
  file.mapping_ = std::move(owned);
  return file;
}

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

uint64_t GgufFile::file_size() const { return bytes_.size(); }

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::byte> GgufFile::TensorData(const GgufTensorInfo& tensor) const {
  return bytes_.subspan(static_cast<size_t>(data_offset_ + tensor.offset),
                        static_cast<size_t>(tensor.n_bytes));
}

}  // namespace quantlab
