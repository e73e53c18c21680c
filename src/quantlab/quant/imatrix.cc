#include "quantlab/quant/imatrix.h"

#include <cmath>
#include <cstring>

#include "quantlab/quant/imatrix_gguf.h"
#include "quantlab/util/atomic_file.h"
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

Result<ImatrixDat> ParseImatrixDat(std::span<const uint8_t> bytes, const std::string& source_name) {
  Cursor in(bytes, source_name);
  ImatrixDat dat;
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
    dat.entries.push_back({std::move(name), *ncall, std::move(values)});
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
    dat.dataset.resize(static_cast<size_t>(*dataset_len));
    QL_RETURN_IF_ERROR(in.ReadBytes(dat.dataset.data(), dat.dataset.size(), "the dataset name"));
    dat.last_call = *last_call;
    if (in.remaining() > 0)
      return in.Fail(fmt::format("{} unexpected bytes after the trailer", in.remaining()));
  }
  return dat;
}

Result<ImportanceMatrix> ParseImatrix(std::span<const uint8_t> bytes, const std::string& source_name) {
  if (IsGgufBytes(bytes)) {
    QL_ASSIGN_OR_RETURN(const ImatrixGguf gguf, ParseImatrixGguf(bytes, source_name));
    return ImportanceFromGguf(gguf);
  }
  QL_ASSIGN_OR_RETURN(ImatrixDat dat, ParseImatrixDat(bytes, source_name));
  ImportanceMatrix matrix;
  for (ImatrixDatEntry& e : dat.entries) {
    // The file stores sums over ncall calls; llama-quantize uses the mean, divided in float.
    if (e.ncall > 0) {
      for (float& v : e.values) v /= e.ncall;
    }
    matrix.entries[e.name] =
        std::move(e.values);  // a repeated name replaces the earlier one, as in llama.cpp
  }
  matrix.chunks = dat.last_call;
  matrix.dataset = std::move(dat.dataset);
  return matrix;
}

Result<ImatrixDat> ReadImatrixDatFile(const std::filesystem::path& path) {
  QL_ASSIGN_OR_RETURN_CTX(const std::string bytes, ReadText(path.string()), "imatrix file");
  return ParseImatrixDat(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                         path.string());
}

Result<ImportanceMatrix> ReadImatrixFile(const std::filesystem::path& path) {
  QL_ASSIGN_OR_RETURN_CTX(const std::string bytes, ReadText(path.string()), "imatrix file");
  return ParseImatrix(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), path.string());
}

Status WriteImatrixDatFile(const std::filesystem::path& path, const ImatrixDat& dat) {
  std::string out;
  auto put_i32 = [&out](int32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  put_i32(static_cast<int32_t>(dat.entries.size()));
  for (const ImatrixDatEntry& e : dat.entries) {
    put_i32(static_cast<int32_t>(e.name.size()));
    out += e.name;
    put_i32(e.ncall);
    put_i32(static_cast<int32_t>(e.values.size()));
    out.append(reinterpret_cast<const char*>(e.values.data()), e.values.size() * sizeof(float));
  }
  if (dat.last_call >= 0) {
    put_i32(dat.last_call);
    put_i32(static_cast<int32_t>(dat.dataset.size()));
    out += dat.dataset;
  }
  QL_ASSIGN_OR_RETURN_CTX(AtomicFile file, AtomicFile::Create(path.string()), "imatrix file");
  QL_RETURN_IF_ERROR(file.Write(out));
  return file.Commit();
}

Status WriteImatrixFile(const std::filesystem::path& path, const ImportanceMatrix& matrix) {
  ImatrixDat dat;
  for (const auto& [name, values] : matrix.entries) {
    dat.entries.push_back({name, /*ncall=*/1, values});  // values are already means
  }
  dat.last_call = matrix.chunks;
  dat.dataset = matrix.dataset;
  return WriteImatrixDatFile(path, dat);
}

}  // namespace quantlab
