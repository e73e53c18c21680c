// libFuzzer target for the GGUF reader: any bytes must give either a valid GgufFile whose invariants
// hold, or an error naming the offset. A crash, sanitizer report, timeout or oversized allocation is a
// finding. Built by fuzz/CMakeLists.txt (QUANTLAB_FUZZ=ON, clang); run by scripts/fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/summary.h"
#include "quantlab/util/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  auto file = quantlab::ParseGguf(bytes, "fuzz.gguf");
  if (!file.ok()) {
    const std::string& message = file.error().message;
    QL_CHECK_MSG(message.rfind("fuzz.gguf: at byte ", 0) == 0, message.c_str());
    return 0;
  }
  // Everything the reader accepted must be safe to use.
  QL_CHECK(file->data_offset() % file->alignment() == 0);
  for (const quantlab::GgufTensorInfo& tensor : file->tensors()) {
    const auto tensor_bytes = file->TensorData(tensor);
    QL_CHECK(tensor_bytes.size() == tensor.n_bytes);
    QL_CHECK(tensor_bytes.empty() ||
             (tensor_bytes.data() >= bytes.data() &&
              tensor_bytes.data() + tensor_bytes.size() <= bytes.data() + bytes.size()));
    QL_CHECK(file->FindTensor(tensor.name) == &tensor);
  }
  // Exercise the consumers of parsed metadata (inspect's summary and renderings).
  const quantlab::GgufSummary summary = quantlab::SummarizeGguf(*file);
  const std::string text = quantlab::RenderSummaryText(summary);
  const std::string json =
      quantlab::SummaryToJson(summary).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  QL_CHECK(!text.empty() && !json.empty());
  return 0;
}
