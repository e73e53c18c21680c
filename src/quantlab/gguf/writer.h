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

  // Called after each tensor is written (tensors written so far, count), e.g. for a progress bar. Return
  // false to stop: WriteTo then fails and leaves no file.
  void OnTensorWritten(std::function<bool(size_t, size_t)> callback) { on_written_ = std::move(callback); }

  // With no tensors, gguf-py ends the file right after the tensor table while ggml pads it to the
  // alignment; quantlab follows gguf-py unless told to pad (MakeWriterFromFile keeps what the input did).
  void SetPadWhenNoTensors(bool pad) { pad_when_no_tensors_ = pad; }

  // Writes everything to `path` atomically. On error no file is left at `path` (and any earlier file
  // there is untouched).
  Status WriteTo(const std::string& path);

 private:
  GgufMetadata metadata_;
  std::vector<GgufTensorToWrite> tensors_;
  std::function<bool(size_t, size_t)> on_written_;
  bool pad_when_no_tensors_ = false;
};

class GgufFile;

// A writer holding `file`'s metadata and tensors (in file order, data copied from the mapping), so that
// MakeWriterFromFile(f).WriteTo(out) rewrites a file unchanged. The result is byte-identical to the input
// for files laid out as llama.cpp and gguf-py lay them out (tensors in order, each padded to the
// alignment), except that version 2 files are written as version 3 (the layout is the same). `file`
// must outlive the writer.
GgufWriter MakeWriterFromFile(const GgufFile& file);

}  // namespace quantlab
