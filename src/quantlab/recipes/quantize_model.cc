#include "quantlab/recipes/quantize_model.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>

#include <sys/mman.h>
#include <unistd.h>
#include <thread>

#include "quantlab/gguf/model_checks.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/writer.h"
#include "quantlab/quant/quantize.h"
#include "quantlab/recipes/imatrix_rules.h"
#include "quantlab/recipes/model_facts.h"
#include "quantlab/util/check.h"
#include "quantlab/util/fp16.h"
#include "quantlab/util/system_info.h"

namespace quantlab {
namespace {

using Clock = std::chrono::steady_clock;

// llama-quantize hands each thread chunks of at least this many values.
constexpr int64_t kMinChunkValues = 32 * 512;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool IsFloatType(GgmlType type) {
  return type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16;
}

// The source's metadata in order, then (as llama-quantize sets them, each moved to the end)
// general.quantization_version and general.file_type, without the split keys, and the imatrix
// provenance keys when importance weights were used.
GgufMetadata OutputMetadata(const GgufMetadata& source, Recipe recipe, const QuantizeModelOptions& options) {
  GgufMetadata out = source;
  out.Remove("general.quantization_version");
  out.Set("general.quantization_version", GgufValue::U32(kQuantizationVersion));
  out.Remove("general.file_type");
  out.Set("general.file_type", GgufValue::U32(FileTypeValue(recipe)));
  for (const char* key : {"split.no", "split.count", "split.tensors.count"}) out.Remove(key);
  if (options.imatrix != nullptr && !options.imatrix->entries.empty()) {
    auto set_last = [&out](const std::string& key, GgufValue value) {
      out.Remove(key);
      out.Set(key, std::move(value));
    };
    // llama-quantize keeps at most 127 characters of these strings.
    set_last("quantize.imatrix.file", GgufValue::Str(options.imatrix_path.substr(0, 127)));
    if (!options.imatrix->dataset.empty()) {
      set_last("quantize.imatrix.dataset", GgufValue::Str(options.imatrix->dataset.substr(0, 127)));
    }
    set_last("quantize.imatrix.entries_count",
             GgufValue::I32(static_cast<int32_t>(options.imatrix->entries.size())));
    if (options.imatrix->chunks > 0)
      set_last("quantize.imatrix.chunks_count", GgufValue::I32(options.imatrix->chunks));
  }
  return out;
}

std::string DescribeBadValue(const std::string& tensor, int64_t index, int64_t n_per_row, float value) {
  return fmt::format("tensor {}: value {} at row {}, column {} is {}; the source model is corrupt", tensor,
                     index, index / n_per_row, index % n_per_row, std::isnan(value) ? "NaN" : "infinite");
}

// Drops the pages of a source tensor that has been converted from this process's resident set (they stay
// in the page cache): without it every page of the mapped model counts towards the process's RSS by the
// end of the run, although each is needed only while its tensor is converted.
void ReleaseSourcePages(std::span<const std::byte> bytes) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes.data()) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) / page * page;
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

// Finds the first NaN or infinity among `n` values of a float type (all exponent bits set), or -1.
int64_t FirstNonFinite(GgmlType type, const std::byte* data, int64_t n) {
  if (type == GgmlType::kF32) {
    for (int64_t i = 0; i < n; ++i) {
      uint32_t bits;
      std::memcpy(&bits, data + 4 * i, 4);
      if ((bits & 0x7F800000u) == 0x7F800000u) return i;
    }
    return -1;
  }
  const uint16_t exponent = type == GgmlType::kF16 ? 0x7C00 : 0x7F80;
  for (int64_t i = 0; i < n; ++i) {
    uint16_t bits;
    std::memcpy(&bits, data + 2 * i, 2);
    if ((bits & exponent) == exponent) return i;
  }
  return -1;
}

// Converts one tensor at a time with a pool of threads.
class TensorConverter {
 public:
  TensorConverter(int threads, bool measure)
      : threads_(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        measure_(measure) {}
  int threads() const { return threads_; }

  // Checks a tensor that is copied unchanged for NaN/Inf (float types only), then copies it.
  static Status Copy(const GgufTensorInfo& tensor, std::span<const std::byte> source,
                     std::span<std::byte> dst) {
    QL_CHECK(dst.size() == source.size());
    if (IsFloatType(tensor.type)) {
      if (int64_t i = FirstNonFinite(tensor.type, source.data(), tensor.n_elements()); i >= 0) {
        float value = 0;
        DequantizeRow(tensor.type, source.data() + i * TypeInfo(tensor.type).block_bytes, &value, 1);
        return MakeError("{}", DescribeBadValue(tensor.name, i, tensor.row_length(), value));
      }
    }
    std::memcpy(dst.data(), source.data(), source.size());
    return Ok();
  }

  // Quantizes the tensor into `dst` chunk by chunk: each thread turns a chunk of source rows into floats
  // (its own small buffer, so memory never holds a float copy of the whole tensor), checks them for
  // NaN/Inf, quantizes them and measures the round-trip error. One dispatch per tensor.
  Status Convert(const GgufTensorInfo& tensor, std::span<const std::byte> source, GgmlType type,
                 const float* importance, std::span<std::byte> dst, Distortion& distortion) {
    const int64_t n_per_row = tensor.row_length();
    const int64_t n_rows = tensor.n_rows();
    const size_t row_bytes = RowBytes(type, n_per_row);
    const size_t source_row_bytes = RowBytes(tensor.type, n_per_row);
    QL_CHECK(dst.size() == row_bytes * static_cast<size_t>(n_rows));
    const bool direct =
        tensor.type == GgmlType::kF32 && reinterpret_cast<uintptr_t>(source.data()) % alignof(float) == 0;

    // Work items never straddle two matrices of a 3-D (expert) tensor: each has its own importance.
    const int64_t rows_per_matrix = tensor.shape.size() >= 2 ? tensor.shape[1] : 1;
    const int64_t chunk_rows = std::max<int64_t>(1, (kMinChunkValues + n_per_row - 1) / n_per_row);
    const int64_t chunks_per_matrix = (rows_per_matrix + chunk_rows - 1) / chunk_rows;
    const int64_t n_items = (n_rows / rows_per_matrix) * chunks_per_matrix;

    std::atomic<int64_t> next{0};
    std::atomic<int64_t> first_bad{kNone};
    std::mutex merge_mutex;
    DistortionAccumulator total;
    auto work = [&] {
      DistortionAccumulator local;
      std::vector<float> values;
      std::vector<float> roundtrip;
      for (int64_t item = next.fetch_add(1); item < n_items && first_bad.load() == kNone;
           item = next.fetch_add(1)) {
        const int64_t matrix = item / chunks_per_matrix;
        const int64_t row_begin = matrix * rows_per_matrix + (item % chunks_per_matrix) * chunk_rows;
        const int64_t row_end = std::min(row_begin + chunk_rows, (matrix + 1) * rows_per_matrix);
        const int64_t n = (row_end - row_begin) * n_per_row;
        const std::byte* in = source.data() + row_begin * source_row_bytes;
        const float* src = reinterpret_cast<const float*>(in);
        if (!direct) {
          values.resize(static_cast<size_t>(n));
          DequantizeRow(tensor.type, in, values.data(), n);
          src = values.data();
        }
        if (int64_t bad = FirstNonFiniteFloat(std::span(src, n)); bad >= 0) {
          AtomicMin(first_bad, row_begin * n_per_row + bad);
          break;
        }
        std::byte* out = dst.data() + row_begin * row_bytes;
        const float* weights = importance != nullptr ? importance + matrix * n_per_row : nullptr;
        QuantizeRows(type, src, out, row_end - row_begin, n_per_row, weights);
        if (measure_) {
          roundtrip.resize(static_cast<size_t>(n));
          DequantizeRow(type, out, roundtrip.data(), n);
          local.Add(std::span(src, n), roundtrip);
        }
      }
      std::lock_guard lock(merge_mutex);
      total.Merge(local);
    };
    // Like llama-quantize, helpers are started per tensor (a persistent pool's spinning workers would
    // steal the CPU from the threads doing the work on a busy machine).
    const int helpers = static_cast<int>(std::min<int64_t>(threads_, n_items)) - 1;
    std::vector<std::thread> running;
    running.reserve(helpers);
    for (int t = 0; t < helpers; ++t) running.emplace_back(work);
    work();
    for (auto& thread : running) thread.join();
    if (const int64_t i = first_bad.load(); i != kNone) {
      std::vector<float> row(static_cast<size_t>(n_per_row));
      DequantizeRow(tensor.type, source.data() + (i / n_per_row) * source_row_bytes, row.data(), n_per_row);
      return MakeError("{}", DescribeBadValue(tensor.name, i, n_per_row, row[i % n_per_row]));
    }
    distortion = total.Summary();
    return Ok();
  }

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::max();

  static int64_t FirstNonFiniteFloat(std::span<const float> values) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) return static_cast<int64_t>(i);
    }
    return -1;
  }

  static void AtomicMin(std::atomic<int64_t>& target, int64_t value) {
    int64_t current = target.load();
    while (value < current && !target.compare_exchange_weak(current, value)) {
    }
  }

  int threads_;
  bool measure_;
};

// The importance weights for a tensor: llama-quantize uses an entry whose size is the row length times
// the number of experts, ignores a mismatched one for token_embd, and refuses any other mismatch.
Result<const float*> ImportanceFor(const ImportanceMatrix* imatrix, const TensorDecision& decision) {
  if (imatrix == nullptr) return static_cast<const float*>(nullptr);
  const std::vector<float>* weights = imatrix->Find(decision.name);
  if (weights == nullptr) return static_cast<const float*>(nullptr);
  const int64_t experts = decision.shape.size() >= 3 ? decision.shape[2] : 1;
  const int64_t expected = decision.shape[0] * experts;
  if (static_cast<int64_t>(weights->size()) == expected) return weights->data();
  if (decision.name == "token_embd.weight") return static_cast<const float*>(nullptr);
  return MakeError("imatrix entry for tensor {} has {} values, but the tensor needs {}", decision.name,
                   weights->size(), expected);
}

// llama-quantize refuses to write the very low-bit types without importance weights ("Missing importance
// matrix for tensor ... in a very low-bit quantization"): IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, and IQ1_M except
// for token_embd and output. The IQ3_XXS recipe gives attn_q and attn_k IQ2_S, so it needs an imatrix.
// (Q2_K_S, the other case llama-quantize checks here, is not a quantlab recipe.)
Status CheckImportanceRequired(const QuantizationPlan& plan, std::span<const float* const> importance) {
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorDecision& decision = plan.tensors[i];
    if (!decision.convert || importance[i] != nullptr) continue;
    const GgmlType t = decision.type;
    const bool embd_or_output = decision.name == "token_embd.weight" || decision.name == "output.weight";
    if (t == GgmlType::kIQ2_XXS || t == GgmlType::kIQ2_XS || t == GgmlType::kIQ2_S || t == GgmlType::kIQ1_S ||
        (t == GgmlType::kIQ1_M && !embd_or_output)) {
      return MakeError(
          "tensor {} would be {}, a very low-bit type that llama-quantize refuses to write without an "
          "importance matrix: pass --imatrix FILE (with an entry for this tensor)",
          decision.name, TypeName(t));
    }
  }
  return Ok();
}

// Checks up front that every conversion in the plan is one quantlab can do.
Status CheckConvertible(const QuantizationPlan& plan) {
  for (const auto& decision : plan.tensors) {
    if (!decision.convert) continue;
    if (!CanQuantizeRows(decision.type)) {
      return MakeError(
          "tensor {}: llama.cpp would write it as {}{}, a type quantlab cannot produce", decision.name,
          TypeName(decision.type),
          decision.fallback ? fmt::format(" (fallback for {})", TypeName(decision.preferred_type)) : "");
    }
    if (DequantizerFor(decision.source_type) == nullptr) {
      return MakeError("tensor {}: cannot read values of type {}", decision.name,
                       TypeName(decision.source_type));
    }
    if (decision.shape.size() > 3 && decision.shape[3] != 1) {
      return MakeError("tensor {}: 4-dimensional tensors are not quantized", decision.name);
    }
  }
  return Ok();
}

}  // namespace

double QuantizeReport::compression_ratio() const {
  return output_tensor_bytes == 0 ? 0.0 : static_cast<double>(source_tensor_bytes) / output_tensor_bytes;
}

double QuantizeReport::bits_per_weight() const {
  return n_elements == 0 ? 0.0
                         : 8.0 * static_cast<double>(output_tensor_bytes) / static_cast<double>(n_elements);
}

Result<QuantizeReport> QuantizeModel(const std::string& input_path, const std::string& output_path,
                                     const QuantizeModelOptions& options) {
  const auto start = Clock::now();
  QL_ASSIGN_OR_RETURN(GgufFile source, GgufFile::Open(input_path));
  QL_RETURN_IF_ERROR(CheckModelFile(source));
  QL_ASSIGN_OR_RETURN_CTX(const ModelFacts facts, ReadModelFacts(source.metadata()), "{}", input_path);

  QuantizeOptions plan_options = options.plan;
  plan_options.has_imatrix = options.imatrix != nullptr && !options.imatrix->entries.empty();
  // llama-quantize stops before any work when one of these recipes comes without an imatrix.
  if (!plan_options.has_imatrix && RecipeNeedsImatrix(RecipeName(options.recipe))) {
    return MakeError(
        "{} needs an importance matrix: llama-quantize refuses to make the IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S, "
        "IQ1_M and Q2_K_S recipes without one; pass --imatrix FILE",
        RecipeName(options.recipe));
  }
  QL_ASSIGN_OR_RETURN_CTX(const QuantizationPlan plan,
                          PlanQuantization(facts, source.tensors(), options.recipe, plan_options), "{}",
                          input_path);

  QuantizeReport report;
  report.input_path = input_path;
  report.output_path = output_path;
  report.recipe = options.recipe;
  report.n_fallback = plan.n_fallback;
  report.n_k_quantized = plan.n_k_quantized;
  report.warnings = plan.warnings;
  report.source_file_bytes = source.file_size();
  report.tensors.resize(plan.tensors.size());

  std::vector<std::string> without_importance;
  std::vector<const float*> importance(plan.tensors.size(), nullptr);
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorDecision& decision = plan.tensors[i];
    if (!decision.convert || options.imatrix == nullptr) continue;
    QL_ASSIGN_OR_RETURN(importance[i], ImportanceFor(options.imatrix, decision));
    if (importance[i] == nullptr && TypeInfo(decision.type).quantized)
      without_importance.push_back(decision.name);
  }
  QL_RETURN_IF_ERROR(CheckImportanceRequired(plan, importance));
  QL_RETURN_IF_ERROR(CheckConvertible(plan));
  if (options.imatrix != nullptr && !without_importance.empty()) {
    report.warnings.push_back(
        fmt::format("the imatrix has no usable entry for {} quantized tensor(s), e.g. {}",
                    without_importance.size(), without_importance.front()));
  }

  TensorConverter converter(options.threads, options.measure_distortion);
  report.threads = converter.threads();
  GgufWriter writer(OutputMetadata(source.metadata(), options.recipe, options));
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorDecision& decision = plan.tensors[i];
    const GgufTensorInfo& tensor = source.tensors()[decision.source_index];
    TensorReport& entry = report.tensors[i];
    entry.name = decision.name;
    entry.shape = decision.shape;
    entry.source_type = decision.source_type;
    entry.type = decision.type;
    entry.converted = decision.convert;
    entry.fallback = decision.fallback;
    entry.used_importance = importance[i] != nullptr;
    entry.source_bytes = tensor.n_bytes;
    entry.bytes = RowBytes(decision.type, tensor.row_length()) * static_cast<uint64_t>(tensor.n_rows());
    report.source_tensor_bytes += entry.source_bytes;
    report.output_tensor_bytes += entry.bytes;
    report.n_elements += tensor.n_elements();

    writer.AddTensor({decision.name, decision.shape, decision.type,
                      [&, i, &entry = entry, &tensor = tensor](std::span<std::byte> dst) -> Status {
                        const auto tensor_start = Clock::now();
                        auto data = source.TensorData(tensor);
                        Status status = entry.converted
                                            ? converter.Convert(tensor, data, entry.type, importance[i], dst,
                                                                entry.distortion)
                                            : converter.Copy(tensor, data, dst);
                        entry.seconds = SecondsSince(tensor_start);
                        ReleaseSourcePages(data);
                        return status;
                      }});
  }
  if (options.on_tensor) {
    // The writer reports how many tensors are written so far.
    writer.OnTensorWritten([&](size_t written, size_t count) {
      QL_CHECK(written >= 1 && written <= report.tensors.size());
      return options.on_tensor(report.tensors[written - 1], written - 1, count);
    });
  }
  QL_RETURN_IF_ERROR(writer.WriteTo(output_path));

  std::error_code ec;
  report.output_file_bytes = std::filesystem::file_size(output_path, ec);
  report.seconds = SecondsSince(start);
  report.peak_rss_bytes = PeakRssBytes();
  return report;
}

nlohmann::json QuantizeReportToJson(const QuantizeReport& report) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : report.tensors) {
    nlohmann::json entry = {
        {"name", t.name},
        {"shape", t.shape},
        {"source_type", TypeName(t.source_type)},
        {"type", TypeName(t.type)},
        {"converted", t.converted},
        {"fallback", t.fallback},
        {"importance", t.used_importance},
        {"source_bytes", t.source_bytes},
        {"bytes", t.bytes},
        {"seconds", t.seconds},
    };
    if (t.converted && t.distortion.count > 0) {
      entry["rmse"] = t.distortion.rmse;
      entry["max_abs_error"] = t.distortion.max_abs_error;
      entry["cosine"] = t.distortion.cosine;
      // JSON has no infinity: an exact round trip has no finite SNR.
      if (std::isfinite(t.distortion.snr_db)) entry["snr_db"] = t.distortion.snr_db;
    }
    tensors.push_back(std::move(entry));
  }
  return {
      {"input", report.input_path},
      {"output", report.output_path},
      {"recipe", RecipeName(report.recipe)},
      {"file_type", FileTypeValue(report.recipe)},
      {"threads", report.threads},
      {"seconds", report.seconds},
      {"source_tensor_bytes", report.source_tensor_bytes},
      {"output_tensor_bytes", report.output_tensor_bytes},
      {"source_file_bytes", report.source_file_bytes},
      {"output_file_bytes", report.output_file_bytes},
      {"n_elements", report.n_elements},
      {"compression_ratio", report.compression_ratio()},
      {"bits_per_weight", report.bits_per_weight()},
      {"n_fallback", report.n_fallback},
      {"peak_rss_bytes", report.peak_rss_bytes},
      {"warnings", report.warnings},
      {"tensors", std::move(tensors)},
  };
}

}  // namespace quantlab
