// Writes GGUF v3 files. Tensor data is streamed: each tensor's bytes are produced on demand, written,
// and released, so the whole model is never held in memory. The write is atomic: a temporary file in
// the target folder is written, flushed and renamed, so a failed or killed write never leaves a partial
// file under the final name.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "quantlab/gguf/metadata.h"
#include "quantlab/gguf/types.h"
#include "quantlab/util/result.h"

namespace quantlab {

// Fills `dst` (exactly the tensor's byte size) with the tensor's data.
using TensorProducer = std::function<Status(std::span<std::byte> dst)>;

struct GgufTensorToWrite {
  std::string name;
  std::vector<int64_t> shape;  // ggml order, shape[0] contiguous
  GgmlType type = GgmlType::kF32;
  TensorProducer produce;
};

class GgufWriter {
 public:
  explicit GgufWriter(GgufMetadata metadata) : metadata_(std::move(metadata)) {}

  // Tensors are written in the order added. Alignment comes from `general.alignment` when present.
  void AddTensor(GgufTensorToWrite tensor) { tensors_.push_back(std::move(tensor)); }

  // Called after each tensor is written (index, count), e.g. for a progress bar.
  void OnTensorWritten(std::function<void(size_t, size_t)> callback) { on_written_ = std::move(callback); }

  // Writes everything to `path` atomically. On error no file is left at `path` (and any earlier file
  // there is untouched).
  Status WriteTo(const std::string& path);

 private:
  GgufMetadata metadata_;
  std::vector<GgufTensorToWrite> tensors_;
  std::function<void(size_t, size_t)> on_written_;
};

}  // namespace quantlab
