// Quantizes a GGUF model file into another, as llama-quantize does: same tensor order, types (plan.h)
// and bytes, metadata copied in order with general.quantization_version and general.file_type set.
//
// Streaming: the source is memory-mapped and the output written tensor by tensor through the atomic
// GgufWriter, so memory holds one tensor's float copy and its quantized bytes at a time, not the model.
// Each tensor's rows are quantized by several threads in chunks; chunking never changes the bytes
// (every row is quantized on its own). Every converted tensor's round-trip error against its source is
// measured. A NaN or infinity in a source tensor stops the run with an error naming the tensor, and no
// output file is left.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "quantlab/gguf/types.h"
#include "quantlab/quant/distortion.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/recipes/plan.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct TensorReport {
  std::string name;
  std::vector<int64_t> shape;
  GgmlType source_type = GgmlType::kF32;
  GgmlType type = GgmlType::kF32;
  bool converted = false;        // false: bytes copied unchanged
  bool fallback = false;         // a row-length fallback type was used
  bool used_importance = false;  // imatrix weights were applied
  uint64_t source_bytes = 0;
  uint64_t bytes = 0;
  Distortion distortion;  // quantized vs source values (count 0 when copied)
  double seconds = 0;
};

struct QuantizeReport {
  std::string input_path;
  std::string output_path;
  Recipe recipe = Recipe::kF16;
  int threads = 1;
  std::vector<TensorReport> tensors;  // in output order
  uint64_t source_tensor_bytes = 0;
  uint64_t output_tensor_bytes = 0;
  uint64_t source_file_bytes = 0;
  uint64_t output_file_bytes = 0;
  int64_t n_elements = 0;  // all tensors
  int n_fallback = 0;
  int n_k_quantized = 0;
  std::vector<std::string> warnings;
  double seconds = 0;
  uint64_t peak_rss_bytes = 0;  // of the whole process, at the end of the run (0 if unknown)

  double compression_ratio() const;  // source tensor bytes / output tensor bytes
  double bits_per_weight() const;    // output tensor bits / elements
};

struct QuantizeModelOptions {
  Recipe recipe = Recipe::kQ4_K_M;
  QuantizeOptions plan;  // --pure, forced types, --allow-requantize (has_imatrix is set from `imatrix`)
  int threads = 0;       // 0: all hardware threads
  // Importance weights per tensor (llama.cpp's imatrix), or nullptr. `imatrix_path` is recorded in the
  // output's metadata as llama-quantize records it.
  const ImportanceMatrix* imatrix = nullptr;
  std::string imatrix_path;
  bool measure_distortion = true;
  // Called after each tensor is written with its report, its index and the tensor count (progress).
  // Return false to stop: QuantizeModel then fails and writes no file.
  std::function<bool(const TensorReport&, size_t index, size_t count)> on_tensor;
};

Result<QuantizeReport> QuantizeModel(const std::string& input_path, const std::string& output_path,
                                     const QuantizeModelOptions& options);

nlohmann::json QuantizeReportToJson(const QuantizeReport& report);

}  // namespace quantlab
