// GGUF metadata: typed key/value pairs, kept in file order (so a read-then-write round trip is
// byte-identical).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace quantlab {

// Value type ids as stored in GGUF (gguf_type).
enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

std::string_view GgufValueTypeName(GgufValueType type);

struct GgufValue;

// An array: one element type for all items (GGUF allows arrays of arrays).
struct GgufArray {
  GgufValueType element_type = GgufValueType::kUint8;
  std::vector<GgufValue> items;
};

struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  // Integers of every width are held as int64/uint64, floats as double; `type` keeps the stored width.
  std::variant<uint64_t, int64_t, double, bool, std::string, std::shared_ptr<GgufArray>> data;

  static GgufValue U8(uint8_t v) { return {GgufValueType::kUint8, uint64_t{v}}; }
  static GgufValue I8(int8_t v) { return {GgufValueType::kInt8, int64_t{v}}; }
  static GgufValue U16(uint16_t v) { return {GgufValueType::kUint16, uint64_t{v}}; }
  static GgufValue I16(int16_t v) { return {GgufValueType::kInt16, int64_t{v}}; }
  static GgufValue U32(uint32_t v) { return {GgufValueType::kUint32, uint64_t{v}}; }
  static GgufValue I32(int32_t v) { return {GgufValueType::kInt32, int64_t{v}}; }
  static GgufValue U64(uint64_t v) { return {GgufValueType::kUint64, v}; }
  static GgufValue I64(int64_t v) { return {GgufValueType::kInt64, v}; }
  static GgufValue F32(float v) { return {GgufValueType::kFloat32, double{v}}; }
  static GgufValue F64(double v) { return {GgufValueType::kFloat64, v}; }
  static GgufValue Bool(bool v) { return {GgufValueType::kBool, v}; }
  static GgufValue Str(std::string v) { return {GgufValueType::kString, std::move(v)}; }
  static GgufValue Array(GgufValueType element_type, std::vector<GgufValue> items) {
    return {GgufValueType::kArray, std::make_shared<GgufArray>(GgufArray{element_type, std::move(items)})};
  }

  // Typed views; nullopt when the value is not of a compatible kind (any integer width converts to the
  // requested integer when it fits; floats convert to double).
  std::optional<uint64_t> AsUint() const;
  std::optional<int64_t> AsInt() const;
  std::optional<double> AsFloat() const;
  std::optional<bool> AsBool() const;
  const std::string* AsString() const;
  const GgufArray* AsArray() const;

  // Short human-readable rendering for `inspect` (long arrays are elided).
  std::string ToDisplayString(size_t max_items = 8) const;
};

// Ordered key/value store with unique keys.
class GgufMetadata {
 public:
  // Adds or replaces `key` (replacing keeps the original position).
  void Set(std::string key, GgufValue value);
  bool Remove(std::string_view key);
  const GgufValue* Find(std::string_view key) const;
  bool Contains(std::string_view key) const { return Find(key) != nullptr; }

  std::optional<uint64_t> GetUint(std::string_view key) const;
  std::optional<int64_t> GetInt(std::string_view key) const;
  std::optional<double> GetFloat(std::string_view key) const;
  std::optional<bool> GetBool(std::string_view key) const;
  std::optional<std::string> GetString(std::string_view key) const;
  const GgufArray* GetArray(std::string_view key) const;

  const std::vector<std::pair<std::string, GgufValue>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, GgufValue>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace quantlab
