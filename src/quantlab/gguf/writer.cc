#include "quantlab/gguf/writer.h"

#include <fmt/format.h>

#include <cstring>
#include <unordered_set>

#include "quantlab/gguf/format.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/util/atomic_file.h"

namespace quantlab {
namespace {

namespace spec = gguf_format;

// Appends little-endian encodings to a byte buffer (the header and tensor table are small enough to
// build in memory; tensor data is streamed separately).
class Encoder {
 public:
  template <typename T>
  void Put(T value) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
  }
  void PutString(std::string_view text) {
    Put<uint64_t>(text.size());
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    bytes_.insert(bytes_.end(), p, p + text.size());
  }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  std::vector<std::byte> bytes_;
};

// Encodes a value without its type tag (the caller writes the tag where the format wants one).
Status EncodeValue(const GgufValue& value, std::string_view key, Encoder& out) {
  switch (value.type) {
    case GgufValueType::kUint8:
      out.Put(static_cast<uint8_t>(*value.AsUint()));
      break;
    case GgufValueType::kUint16:
      out.Put(static_cast<uint16_t>(*value.AsUint()));
      break;
    case GgufValueType::kUint32:
      out.Put(static_cast<uint32_t>(*value.AsUint()));
      break;
    case GgufValueType::kUint64:
      out.Put(static_cast<uint64_t>(std::get<uint64_t>(value.data)));
      break;
    case GgufValueType::kInt8:
      out.Put(static_cast<int8_t>(std::get<int64_t>(value.data)));
      break;
    case GgufValueType::kInt16:
      out.Put(static_cast<int16_t>(std::get<int64_t>(value.data)));
      break;
    case GgufValueType::kInt32:
      out.Put(static_cast<int32_t>(std::get<int64_t>(value.data)));
      break;
    case GgufValueType::kInt64:
      out.Put(std::get<int64_t>(value.data));
      break;
    case GgufValueType::kFloat32:
      out.Put(static_cast<float>(std::get<double>(value.data)));
      break;
    case GgufValueType::kFloat64:
      out.Put(std::get<double>(value.data));
      break;
    case GgufValueType::kBool:
      out.Put(static_cast<uint8_t>(std::get<bool>(value.data) ? 1 : 0));
      break;
    case GgufValueType::kString:
      out.PutString(std::get<std::string>(value.data));
      break;
    case GgufValueType::kArray: {
      const GgufArray* array = value.AsArray();
      if (array == nullptr) return MakeError("metadata key '{}': array value without items", key);
      out.Put(static_cast<uint32_t>(array->element_type));
      out.Put(static_cast<uint64_t>(array->items.size()));
      for (const GgufValue& item : array->items) {
        if (item.type != array->element_type) {
          return MakeError("metadata key '{}': array of {} holds a {} item", key,
                           GgufValueTypeName(array->element_type), GgufValueTypeName(item.type));
        }
        QL_RETURN_IF_ERROR(EncodeValue(item, key, out));
      }
      break;
    }
  }
  return Ok();
}

// Variant alternative must agree with the declared type (a hand-built GgufValue could disagree).
bool ValueIsConsistent(const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::kUint8:
    case GgufValueType::kUint16:
    case GgufValueType::kUint32:
    case GgufValueType::kUint64:
      return std::holds_alternative<uint64_t>(v.data);
    case GgufValueType::kInt8:
    case GgufValueType::kInt16:
    case GgufValueType::kInt32:
    case GgufValueType::kInt64:
      return std::holds_alternative<int64_t>(v.data);
    case GgufValueType::kFloat32:
    case GgufValueType::kFloat64:
      return std::holds_alternative<double>(v.data);
    case GgufValueType::kBool:
      return std::holds_alternative<bool>(v.data);
    case GgufValueType::kString:
      return std::holds_alternative<std::string>(v.data);
    case GgufValueType::kArray: {
      if (!std::holds_alternative<std::shared_ptr<GgufArray>>(v.data)) return false;
      const GgufArray* array = v.AsArray();
      if (array == nullptr) return false;
      for (const GgufValue& item : array->items) {
        if (!ValueIsConsistent(item)) return false;
      }
      return true;
    }
  }
  return false;
}

Result<uint64_t> AlignmentOf(const GgufMetadata& metadata) {
  const GgufValue* value = metadata.Find(spec::kAlignmentKey);
  if (value == nullptr) return kGgufDefaultAlignment;
  const std::optional<uint64_t> alignment = value->AsUint();
  if (!alignment || !spec::IsPowerOfTwo(*alignment) || *alignment > spec::kMaxAlignment) {
    return MakeError("{} must be a power of two no larger than {}, got {}", spec::kAlignmentKey,
                     spec::kMaxAlignment, value->ToDisplayString());
  }
  return *alignment;
}

// Byte size of a tensor to be written, after checking its name and shape as the reader would.
Result<uint64_t> CheckedTensorBytes(const GgufTensorToWrite& t) {
  if (t.name.size() > spec::kMaxTensorNameBytes) {
    return MakeError("tensor '{}': name is {} bytes, at most {} allowed", t.name, t.name.size(),
                     spec::kMaxTensorNameBytes);
  }
  if (t.shape.size() > spec::kMaxDims) {
    return MakeError("tensor '{}': {} dimensions, at most {} allowed", t.name, t.shape.size(),
                     spec::kMaxDims);
  }
  int64_t n = 1;
  for (int64_t d : t.shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) {
      return MakeError("tensor '{}': invalid shape [{}]", t.name, fmt::join(t.shape, ", "));
    }
  }
  const GgmlTypeInfo& info = TypeInfo(t.type);
  const int64_t row = t.shape.empty() ? 1 : t.shape[0];
  if (row % info.block_size != 0) {
    return MakeError("tensor '{}': row length {} is not a multiple of the {} block size {}", t.name, row,
                     info.name, info.block_size);
  }
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(n) / info.block_size, uint64_t{info.block_bytes},
                             &bytes)) {
    return MakeError("tensor '{}': byte size overflows", t.name);
  }
  return bytes;
}

}  // namespace

Status GgufWriter::WriteTo(const std::string& path) {
  QL_ASSIGN_OR_RETURN_CTX(const uint64_t alignment, AlignmentOf(metadata_), "{}", path);

  Encoder header;
  for (char c : spec::kMagic) header.Put(c);
  header.Put<uint32_t>(spec::kWriteVersion);
  header.Put<int64_t>(static_cast<int64_t>(tensors_.size()));
  header.Put<int64_t>(static_cast<int64_t>(metadata_.size()));
  for (const auto& [key, value] : metadata_.entries()) {
    if (!ValueIsConsistent(value))
      return MakeError("{}: metadata key '{}': value does not match its type", path, key);
    header.PutString(key);
    header.Put(static_cast<uint32_t>(value.type));
    QL_RETURN_IF_ERROR_CTX(EncodeValue(value, key, header), "{}", path);
  }

  // Tensor table: offsets laid out in order, each tensor padded to the alignment (as llama.cpp does).
  std::vector<uint64_t> sizes;
  sizes.reserve(tensors_.size());
  std::unordered_set<std::string_view> names;
  uint64_t offset = 0;
  for (const GgufTensorToWrite& t : tensors_) {
    QL_ASSIGN_OR_RETURN_CTX(const uint64_t bytes, CheckedTensorBytes(t), "{}", path);
    if (!names.insert(t.name).second) return MakeError("{}: duplicate tensor name '{}'", path, t.name);
    if (!t.produce) return MakeError("{}: tensor '{}' has no data producer", path, t.name);
    header.PutString(t.name);
    header.Put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) header.Put<int64_t>(d);
    header.Put<uint32_t>(static_cast<uint32_t>(t.type));
    header.Put<uint64_t>(offset);
    sizes.push_back(bytes);
    offset = spec::AlignUp(offset + bytes, alignment);
  }

  auto file_or = AtomicFile::Create(path);
  if (!file_or.ok()) return file_or.error();
  AtomicFile& file = *file_or;
  QL_RETURN_IF_ERROR(file.Write(header.bytes()));
  if (!tensors_.empty() || pad_when_no_tensors_) {
    QL_RETURN_IF_ERROR(
        file.WriteZeros(spec::AlignUp(file.bytes_written(), alignment) - file.bytes_written()));
  }

  std::vector<std::byte> buffer;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    // One tensor in memory at a time; shrink-to-fit after a large one is not worth the reallocation.
    buffer.assign(static_cast<size_t>(sizes[i]), std::byte{0});
    QL_RETURN_IF_ERROR_CTX(tensors_[i].produce(std::span(buffer)), "{}: tensor '{}'", path, tensors_[i].name);
    QL_RETURN_IF_ERROR(file.Write(buffer));
    QL_RETURN_IF_ERROR(file.WriteZeros(spec::AlignUp(sizes[i], alignment) - sizes[i]));
    if (on_written_ && !on_written_(i + 1, tensors_.size())) {
      return MakeError("{}: stopped by the caller after {} of {} tensors; nothing written", path, i + 1,
                       tensors_.size());
    }
  }
  return file.Commit();
}

GgufWriter MakeWriterFromFile(const GgufFile& file) {
  GgufWriter writer(file.metadata());
  writer.SetPadWhenNoTensors(file.file_size() >= file.data_offset());
  for (const GgufTensorInfo& info : file.tensors()) {
    const GgufTensorInfo* source = &info;
    writer.AddTensor({info.name, info.shape, info.type, [&file, source](std::span<std::byte> dst) -> Status {
                        const std::span<const std::byte> src = file.TensorData(*source);
                        if (src.size() != dst.size()) return MakeError("size mismatch copying tensor data");
                        std::memcpy(dst.data(), src.data(), src.size());
                        return Ok();
                      }});
  }
  return writer;
}

}  // namespace quantlab
