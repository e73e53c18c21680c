#include "quantlab/quant/imatrix_gguf.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/writer.h"
#include "quantlab/util/text_file.h"

namespace quantlab {
namespace {

constexpr std::string_view kSumsSuffix = ".in_sum2";
constexpr std::string_view kCountsSuffix = ".counts";
constexpr const char* kDatasetsKey = "imatrix.datasets";
constexpr const char* kChunkCountKey = "imatrix.chunk_count";
constexpr const char* kChunkSizeKey = "imatrix.chunk_size";

// The tensor's values as floats; errors name the file and the tensor.
Result<std::vector<float>> ReadF32(const GgufFile& file, const GgufTensorInfo& t) {
  if (t.type != GgmlType::kF32) {
    return MakeError("{}: tensor {} is {}, expected f32", file.path(), t.name, TypeName(t.type));
  }
  const std::span<const std::byte> bytes = file.TensorData(t);
  std::vector<float> values(static_cast<size_t>(t.n_elements()));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i]) || values[i] < 0) {
      return MakeError("{}: tensor {}: value {} is {} (must be finite and >= 0)", file.path(), t.name, i,
                       values[i]);
    }
  }
  return values;
}

Result<uint32_t> ReadChunkKey(const GgufFile& file, const char* key) {
  const GgufValue* v = file.metadata().Find(key);
  if (v == nullptr)
    return MakeError("{}: imatrix key {} is missing (llama-quantize needs it)", file.path(), key);
  const std::optional<uint64_t> n = v->AsUint();
  if (!n || *n > UINT32_MAX) {
    return MakeError("{}: imatrix key {} is {} {}, expected a u32", file.path(), key,
                     GgufValueTypeName(v->type), v->ToDisplayString());
  }
  return static_cast<uint32_t>(*n);
}

Result<std::vector<std::string>> ReadDatasets(const GgufFile& file) {
  const GgufValue* v = file.metadata().Find(kDatasetsKey);
  if (v == nullptr) {
    return MakeError("{}: imatrix key {} is missing (llama-quantize needs it)", file.path(), kDatasetsKey);
  }
  const GgufArray* array = v->AsArray();
  if (array == nullptr || array->element_type != GgufValueType::kString) {
    return MakeError("{}: imatrix key {} is {}, expected an array of strings", file.path(), kDatasetsKey,
                     GgufValueTypeName(v->type));
  }
  std::vector<std::string> datasets;
  for (const GgufValue& item : array->items) datasets.push_back(*item.AsString());
  return datasets;
}

// One entry from its pair of tensors: in_sum2 [n_per_row, n_mat] and counts with n_mat elements.
Result<ImatrixGgufEntry> ReadEntry(const GgufFile& file, const std::string& name, const GgufTensorInfo* sums,
                                   const GgufTensorInfo* counts) {
  if (sums == nullptr || counts == nullptr) {
    return MakeError("{}: imatrix entry {} has {} but no {} tensor", file.path(), name,
                     sums ? std::string(name) + std::string(kSumsSuffix) : name + std::string(kCountsSuffix),
                     sums ? kCountsSuffix : kSumsSuffix);
  }
  if (sums->shape.empty() || sums->shape.size() > 2) {
    return MakeError("{}: tensor {} has {} dimensions, expected 2 ([row length, matrices])", file.path(),
                     sums->name, sums->shape.size());
  }
  const int64_t n_mat = sums->shape.size() == 2 ? sums->shape[1] : 1;
  if (counts->n_elements() != n_mat) {
    return MakeError("{}: tensor {} has {} values, but {} has {} matrices", file.path(), counts->name,
                     counts->n_elements(), sums->name, n_mat);
  }
  ImatrixGgufEntry entry{name, sums->shape[0], {}, {}};
  QL_ASSIGN_OR_RETURN(entry.sums, ReadF32(file, *sums));
  QL_ASSIGN_OR_RETURN(entry.counts, ReadF32(file, *counts));
  return entry;
}

}  // namespace

bool IsGgufBytes(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0;
}

Result<ImatrixGguf> ParseImatrixGguf(std::span<const uint8_t> bytes, const std::string& source_name) {
  QL_ASSIGN_OR_RETURN(const GgufFile file, ParseGguf(std::as_bytes(bytes), source_name));
  const std::optional<std::string> type = file.metadata().GetString("general.type");
  if (type != "imatrix") {
    return MakeError("{}: a GGUF file, but not an importance matrix (general.type is {})", source_name,
                     type ? "'" + *type + "'" : std::string("absent"));
  }
  ImatrixGguf out;
  QL_ASSIGN_OR_RETURN(out.datasets, ReadDatasets(file));
  QL_ASSIGN_OR_RETURN(out.chunk_count, ReadChunkKey(file, kChunkCountKey));
  QL_ASSIGN_OR_RETURN(out.chunk_size, ReadChunkKey(file, kChunkSizeKey));

  // name -> (in_sum2, counts); ordered, as llama-quantize reads them.
  std::map<std::string, std::pair<const GgufTensorInfo*, const GgufTensorInfo*>> pairs;
  for (const GgufTensorInfo& t : file.tensors()) {
    if (t.name.ends_with(kSumsSuffix)) {
      pairs[t.name.substr(0, t.name.size() - kSumsSuffix.size())].first = &t;
    } else if (t.name.ends_with(kCountsSuffix)) {
      pairs[t.name.substr(0, t.name.size() - kCountsSuffix.size())].second = &t;
    }
  }
  if (pairs.empty()) {
    return MakeError("{}: no imatrix data (no NAME{} / NAME{} tensors)", source_name, kSumsSuffix,
                     kCountsSuffix);
  }
  for (const auto& [name, pair] : pairs) {
    QL_ASSIGN_OR_RETURN(ImatrixGgufEntry entry, ReadEntry(file, name, pair.first, pair.second));
    out.entries.push_back(std::move(entry));
  }
  return out;
}

Result<ImatrixGguf> ReadImatrixGgufFile(const std::filesystem::path& path) {
  QL_ASSIGN_OR_RETURN_CTX(const std::string bytes, ReadText(path.string()), "imatrix file");
  return ParseImatrixGguf(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                          path.string());
}

Status WriteImatrixGgufFile(const std::filesystem::path& path, const ImatrixGguf& imatrix) {
  GgufMetadata metadata;
  metadata.Set("general.type", GgufValue::Str("imatrix"));
  std::vector<GgufValue> datasets;
  for (const std::string& d : imatrix.datasets) datasets.push_back(GgufValue::Str(d));
  metadata.Set(kDatasetsKey, GgufValue::Array(GgufValueType::kString, std::move(datasets)));
  metadata.Set(kChunkCountKey, GgufValue::U32(imatrix.chunk_count));
  metadata.Set(kChunkSizeKey, GgufValue::U32(imatrix.chunk_size));
  GgufWriter writer(std::move(metadata));

  std::vector<const ImatrixGgufEntry*> sorted;
  for (const ImatrixGgufEntry& e : imatrix.entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  const auto f32_tensor = [](std::string name, std::vector<int64_t> shape, const std::vector<float>& values) {
    return GgufTensorToWrite{std::move(name), std::move(shape), GgmlType::kF32,
                             [&values](std::span<std::byte> dst) {
                               std::memcpy(dst.data(), values.data(), dst.size());
                               return Ok();
                             }};
  };
  for (const ImatrixGgufEntry* e : sorted) {
    const int64_t n_mat = static_cast<int64_t>(e->counts.size());
    if (n_mat < 1 || e->n_per_row < 1 || static_cast<int64_t>(e->sums.size()) != e->n_per_row * n_mat) {
      return MakeError("{}: imatrix entry {} has {} sums for {} matrices of {} columns", path.string(),
                       e->name, e->sums.size(), n_mat, e->n_per_row);
    }
    writer.AddTensor(f32_tensor(e->name + std::string(kSumsSuffix), {e->n_per_row, n_mat}, e->sums));
    writer.AddTensor(f32_tensor(e->name + std::string(kCountsSuffix), {1, n_mat}, e->counts));
  }
  return writer.WriteTo(path.string());
}

ImportanceMatrix ImportanceFromGguf(const ImatrixGguf& imatrix) {
  ImportanceMatrix matrix;
  for (const ImatrixGgufEntry& e : imatrix.entries) {
    std::vector<float>& out = matrix.entries[e.name];
    out.resize(e.sums.size());
    const size_t n = static_cast<size_t>(e.n_per_row);
    for (size_t m = 0; m < e.counts.size(); ++m) {
      const float count = e.counts[m];
      for (size_t j = 0; j < n; ++j) out[m * n + j] = count > 0.0f ? e.sums[m * n + j] / count : 1.0f;
    }
  }
  matrix.chunks = static_cast<int32_t>(std::min<uint32_t>(imatrix.chunk_count, INT32_MAX));
  matrix.dataset = imatrix.datasets.empty() ? std::string() : imatrix.datasets.front();
  return matrix;
}

ImatrixGguf ImatrixGgufFromDat(const ImatrixDat& dat, uint32_t chunk_size) {
  ImatrixGguf out;
  // A repeated name replaces the earlier entry, as the .dat reader does.
  std::map<std::string, const ImatrixDatEntry*> by_name;
  for (const ImatrixDatEntry& e : dat.entries) by_name[e.name] = &e;
  for (const auto& [name, e] : by_name) {
    const float count = e->ncall > 0 ? static_cast<float>(e->ncall) : 1.0f;
    out.entries.push_back({name, static_cast<int64_t>(e->values.size()), e->values, {count}});
  }
  out.datasets = {dat.dataset};
  out.chunk_count = static_cast<uint32_t>(std::max(dat.last_call, 0));
  out.chunk_size = chunk_size;
  return out;
}

}  // namespace quantlab
