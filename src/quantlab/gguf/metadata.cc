#include "quantlab/gguf/metadata.h"

#include <fmt/format.h>

#include <limits>

namespace quantlab {
namespace {

bool IsUnsignedType(GgufValueType t) {
  return t == GgufValueType::kUint8 || t == GgufValueType::kUint16 || t == GgufValueType::kUint32 ||
         t == GgufValueType::kUint64;
}
bool IsSignedType(GgufValueType t) {
  return t == GgufValueType::kInt8 || t == GgufValueType::kInt16 || t == GgufValueType::kInt32 ||
         t == GgufValueType::kInt64;
}

// Quotes a string for display, escaping control characters and shortening long text.
std::string QuoteForDisplay(const std::string& text, size_t max_chars = 80) {
  std::string out = "\"";
  size_t shown = 0;
  for (char c : text) {
    if (shown++ == max_chars) {
      out += fmt::format("...\" ({} bytes)", text.size());
      return out;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string_view GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
      return "u8";
    case GgufValueType::kInt8:
      return "i8";
    case GgufValueType::kUint16:
      return "u16";
    case GgufValueType::kInt16:
      return "i16";
    case GgufValueType::kUint32:
      return "u32";
    case GgufValueType::kInt32:
      return "i32";
    case GgufValueType::kFloat32:
      return "f32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "str";
    case GgufValueType::kArray:
      return "arr";
    case GgufValueType::kUint64:
      return "u64";
    case GgufValueType::kInt64:
      return "i64";
    case GgufValueType::kFloat64:
      return "f64";
  }
  return "unknown";
}

std::optional<uint64_t> GgufValue::AsUint() const {
  if (IsUnsignedType(type)) return std::get<uint64_t>(data);
  if (IsSignedType(type)) {
    const int64_t v = std::get<int64_t>(data);
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

std::optional<int64_t> GgufValue::AsInt() const {
  if (IsSignedType(type)) return std::get<int64_t>(data);
  if (IsUnsignedType(type)) {
    const uint64_t v = std::get<uint64_t>(data);
    if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(v);
  }
  return std::nullopt;
}

std::optional<double> GgufValue::AsFloat() const {
  if (type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64) return std::get<double>(data);
  if (IsUnsignedType(type)) return static_cast<double>(std::get<uint64_t>(data));
  if (IsSignedType(type)) return static_cast<double>(std::get<int64_t>(data));
  return std::nullopt;
}

std::optional<bool> GgufValue::AsBool() const {
  if (type == GgufValueType::kBool) return std::get<bool>(data);
  return std::nullopt;
}

const std::string* GgufValue::AsString() const {
  return type == GgufValueType::kString ? &std::get<std::string>(data) : nullptr;
}

const GgufArray* GgufValue::AsArray() const {
  return type == GgufValueType::kArray ? std::get<std::shared_ptr<GgufArray>>(data).get() : nullptr;
}

std::string GgufValue::ToDisplayString(size_t max_items) const {
  switch (type) {
    // Shortest text that reads back to the same value at the stored width.
    case GgufValueType::kFloat32:
      return fmt::format("{}", static_cast<float>(std::get<double>(data)));
    case GgufValueType::kFloat64:
      return fmt::format("{}", std::get<double>(data));
    case GgufValueType::kBool:
      return std::get<bool>(data) ? "true" : "false";
    case GgufValueType::kString:
      return QuoteForDisplay(std::get<std::string>(data));
    case GgufValueType::kArray: {
      const GgufArray& array = *AsArray();
      std::string out = "[";
      for (size_t i = 0; i < array.items.size() && i < max_items; ++i) {
        if (i > 0) out += ", ";
        out += array.items[i].ToDisplayString(max_items);
      }
      if (array.items.size() > max_items) out += ", ...";
      out += "]";
      if (array.items.size() > max_items) {
        out += fmt::format(" ({} {})", array.items.size(), GgufValueTypeName(array.element_type));
      }
      return out;
    }
    default:
      if (IsUnsignedType(type)) return fmt::format("{}", std::get<uint64_t>(data));
      return fmt::format("{}", std::get<int64_t>(data));
  }
}

void GgufMetadata::Set(std::string key, GgufValue value) {
  if (auto it = index_.find(key); it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

bool GgufMetadata::Remove(std::string_view key) {
  auto it = index_.find(std::string(key));
  if (it == index_.end()) return false;
  const size_t position = it->second;
  index_.erase(it);
  entries_.erase(entries_.begin() + static_cast<ptrdiff_t>(position));
  for (auto& [name, index] : index_) {
    if (index > position) --index;
  }
  return true;
}

const GgufValue* GgufMetadata::Find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

std::optional<uint64_t> GgufMetadata::GetUint(std::string_view key) const {
  const GgufValue* v = Find(key);
  return v ? v->AsUint() : std::nullopt;
}
std::optional<int64_t> GgufMetadata::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  return v ? v->AsInt() : std::nullopt;
}
std::optional<double> GgufMetadata::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  return v ? v->AsFloat() : std::nullopt;
}
std::optional<bool> GgufMetadata::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  return v ? v->AsBool() : std::nullopt;
}
std::optional<std::string> GgufMetadata::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  const std::string* s = v ? v->AsString() : nullptr;
  return s ? std::optional<std::string>(*s) : std::nullopt;
}
const GgufArray* GgufMetadata::GetArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  return v ? v->AsArray() : nullptr;
}

}  // namespace quantlab
