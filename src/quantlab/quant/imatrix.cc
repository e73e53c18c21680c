#include "quantlab/quant/imatrix.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "quantlab/util/text_file.h"

namespace quantlab {
namespace {

// Bounds-checked little-endian reader over the file bytes; every failure names the byte offset.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }

  Result<int32_t> ReadInt32(std::string_view what) {
    if (remaining() < 4) return Truncated(what, 4);
    int32_t v;
    std::memcpy(&v, bytes_.data() + offset_, 4);
    offset_ += 4;
    return v;
  }

  Status ReadBytes(void* dst, size_t n, std::string_view what) {
    if (remaining() < n) return Truncated(what, n);
    std::memcpy(dst, bytes_.data() + offset_, n);
    offset_ += n;
    return Ok();
  }

  Error Fail(std::string_view message) const {
    return MakeError("{}: offset {}: {}", source_, offset_, message);
  }

 private:
  Error Truncated(std::string_view what, size_t need) const {
    return MakeError("{}: offset {}: file ends while reading {} ({} bytes needed, {} left)", source_, offset_,
                     what, need, remaining());
  }

  std::span<const uint8_t> bytes_;
  const std::string& source_;
  size_t offset_ = 0;
};

}  // namespace

const std::vector<float>* ImportanceMatrix::Find(const std::string& tensor_name) const {
  auto it = entries.find(tensor_name);
  return it == entries.end() ? nullptr : &it->second;
}

Result<ImportanceMatrix> ParseImatrix(std::span<const uint8_t> bytes, const std::string& source_name) {
  Cursor in(bytes, source_name);
  ImportanceMatrix matrix;
  auto n_entries = in.ReadInt32("the entry count");
  if (!n_entries) return n_entries.error();
  if (*n_entries < 1) return in.Fail(fmt::format("entry count is {}, expected at least 1", *n_entries));

  for (int32_t e = 0; e < *n_entries; ++e) {
    const std::string entry = fmt::format("entry {} of {}", e + 1, *n_entries);
    const size_t entry_offset = in.offset();
    auto name_len = in.ReadInt32(entry + " name length");
    if (!name_len) return name_len.error();
    if (*name_len < 0 || static_cast<size_t>(*name_len) > in.remaining()) {
      return in.Fail(
          fmt::format("{}: name length {} is impossible ({} bytes left)", entry, *name_len, in.remaining()));
    }
    std::string name(static_cast<size_t>(*name_len), '\0');
    QL_RETURN_IF_ERROR(in.ReadBytes(name.data(), name.size(), entry + " name"));
    // llama-quantize reads the name as a C string: anything after a NUL byte is not part of it.
    name.resize(std::strlen(name.c_str()));
    const std::string where = fmt::format("{} ('{}', at offset {})", entry, name, entry_offset);

    auto ncall = in.ReadInt32(where + " call count");
    if (!ncall) return ncall.error();
    auto nval = in.ReadInt32(where + " value count");
    if (!nval) return nval.error();
    if (*nval < 1) return in.Fail(fmt::format("{}: value count {} (must be >= 1)", where, *nval));
    if (static_cast<size_t>(*nval) > in.remaining() / sizeof(float)) {
      return in.Fail(
          fmt::format("{}: {} values announced but only {} bytes left", where, *nval, in.remaining()));
    }
    std::vector<float> values(static_cast<size_t>(*nval));
    QL_RETURN_IF_ERROR(in.ReadBytes(values.data(), values.size() * sizeof(float), where + " values"));
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i]) || values[i] < 0) {
        return in.Fail(
            fmt::format("{}: value {} is {} (importance must be finite and >= 0)", where, i, values[i]));
      }
    }
    // The file stores sums over ncall calls; llama-quantize uses the mean, divided in float.
    if (*ncall > 0) {
      for (float& v : values) v /= *ncall;
    }
    matrix.entries[name] = std::move(values);  // a repeated name replaces the earlier one, as in llama.cpp
  }

  if (in.remaining() > 0) {
    auto last_call = in.ReadInt32("the trailer's chunk count");
    if (!last_call) return last_call.error();
    auto dataset_len = in.ReadInt32("the trailer's dataset name length");
    if (!dataset_len) return dataset_len.error();
    if (*dataset_len < 0 || static_cast<size_t>(*dataset_len) > in.remaining()) {
      return in.Fail(
          fmt::format("dataset name length {} is impossible ({} bytes left)", *dataset_len, in.remaining()));
    }
    matrix.dataset.resize(static_cast<size_t>(*dataset_len));
    QL_RETURN_IF_ERROR(in.ReadBytes(matrix.dataset.data(), matrix.dataset.size(), "the dataset name"));
    matrix.chunks = *last_call;
    if (in.remaining() > 0)
      return in.Fail(fmt::format("{} unexpected bytes after the trailer", in.remaining()));
  }
  return matrix;
}

Result<ImportanceMatrix> ReadImatrixFile(const std::filesystem::path& path) {
  QL_ASSIGN_OR_RETURN_CTX(const std::string bytes, ReadText(path.string()), "imatrix file");
  return ParseImatrix(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), path.string());
}

Status WriteImatrixFile(const std::filesystem::path& path, const ImportanceMatrix& matrix) {
  std::string out;
  auto put_i32 = [&out](int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  put_i32(static_cast<int32_t>(matrix.entries.size()));
  for (const auto& [name, values] : matrix.entries) {
    put_i32(static_cast<int32_t>(name.size()));
    out += name;
    put_i32(1);  // ncall: values are already means
    put_i32(static_cast<int32_t>(values.size()));
    out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  }
  if (matrix.chunks >= 0) {
    put_i32(matrix.chunks);
    put_i32(static_cast<int32_t>(matrix.dataset.size()));
    out += matrix.dataset;
  }
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return MakeError("{}: cannot create: {}", tmp.string(), std::strerror(errno));
    file.write(out.data(), static_cast<std::streamsize>(out.size()));
    file.flush();
    if (!file) return MakeError("{}: write failed", tmp.string());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return MakeError("{}: cannot rename temporary file into place", path.string());
  }
  return Ok();
}

}  // namespace quantlab
