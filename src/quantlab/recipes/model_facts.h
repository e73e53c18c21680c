// The few model hyper-parameters llama.cpp's recipe rules look at, read from GGUF metadata.
#pragma once

#include <cstdint>
#include <string>

#include "quantlab/gguf/metadata.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct ModelFacts {
  std::string arch;           // general.architecture, e.g. "llama"
  int32_t n_layer = 0;        // {arch}.block_count
  int32_t n_head = 0;         // {arch}.attention.head_count (layer 0 when per-layer)
  int32_t n_head_kv = 0;      // {arch}.attention.head_count_kv (layer 0; defaults to n_head)
  int32_t n_attn_layers = 0;  // layers whose head_count_kv is not 0 (all of them for llama)
  int32_t n_expert = 0;       // {arch}.expert_count, 0 for dense models

  // Query heads per KV head (grouped-query attention); 0 when there are no KV heads.
  int32_t n_gqa() const { return n_head_kv == 0 ? 0 : n_head / n_head_kv; }
  bool is_falcon() const { return arch == "falcon"; }
  // llama.cpp's LLM_TYPE_70B, for which attn_v gets extra bits: 80-layer llama with GQA, and the
  // 80-layer deci, qwen2 and olmo models.
  bool is_70b() const;
};

// Reads the facts; an error names the missing or malformed key.
Result<ModelFacts> ReadModelFacts(const GgufMetadata& metadata);

}  // namespace quantlab
