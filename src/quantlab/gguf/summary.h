// What `quantlab inspect` shows about a GGUF file: architecture, hyperparameters, tokenizer, file type,
// tensor table and totals, as a struct (for tests and other tools) and rendered as text or JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "quantlab/gguf/reader.h"

namespace quantlab {

struct TokenizerSummary {
  std::string model;  // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), ...
  std::string pre;    // tokenizer.ggml.pre, when present
  uint64_t n_tokens = 0;
  uint64_t n_merges = 0;
  // Special token ids (tokenizer.ggml.<name>_token_id) with their text, e.g. {"bos", {1, "<s>"}}.
  std::map<std::string, std::pair<int64_t, std::string>> special;
};

struct TensorSummary {
  std::string name;
  std::vector<int64_t> shape;
  std::string type;
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
};

struct GgufSummary {
  std::string path;
  uint32_t version = 0;
  uint64_t alignment = 0;
  uint64_t file_size = 0;
  std::string architecture;  // empty when general.architecture is absent
  std::string name;
  // "<architecture>.*" keys with the prefix removed, in file order, as display strings.
  std::vector<std::pair<std::string, std::string>> hyperparameters;
  std::optional<TokenizerSummary> tokenizer;
  std::optional<uint32_t> file_type;  // general.file_type
  std::string file_type_name;         // as llama.cpp prints it
  std::vector<TensorSummary> tensors;
  std::map<std::string, uint64_t> tensors_per_type;
  std::vector<std::string> unsupported_types;  // known to ggml, not computable by quantlab
  // All other metadata keys (general.*, ...) as display strings; long arrays elided.
  std::vector<std::pair<std::string, std::string>> other_metadata;
  uint64_t n_parameters = 0;
  uint64_t tensor_bytes = 0;
  double bits_per_weight = 0;  // tensor bytes * 8 / parameters (as llama.cpp's "BPW")
};

GgufSummary SummarizeGguf(const GgufFile& file);

std::string RenderSummaryText(const GgufSummary& summary, bool show_tensors = true);
nlohmann::json SummaryToJson(const GgufSummary& summary);

}  // namespace quantlab
