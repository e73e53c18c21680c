// Predicts the RAM a model needs at a given context, from its file alone (no loading), so the lab can
// answer "what fits in N GB?" for models this machine cannot even load. The prediction mirrors what
// the engine allocates: the mapped weights (all of them are touched by every token), the F16 KV cache,
// the forward pass's scratch buffers and the logits, plus the process's own baseline.
#pragma once

#include <cstdint>
#include <string>

#include "quantlab/model/llama_config.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct MemoryEstimate {
  uint64_t weights_bytes = 0;   // mapped tensor data (file size: the whole file is mapped)
  uint64_t kv_cache_bytes = 0;  // K and V in F16 for n_ctx positions, all layers
  uint64_t scratch_bytes = 0;   // activations, attention scratch, logits
  uint64_t runtime_bytes = 0;   // the process itself: code, libraries, allocator, tokenizer tables
  uint64_t total() const { return weights_bytes + kv_cache_bytes + scratch_bytes + runtime_bytes; }
};

struct MemoryModelOptions {
  int n_ctx = 512;
  int n_batch = 512;
  int n_threads = 1;
  int n_outputs = 1;  // logits rows kept (1 for generation, n_ctx/2 for perplexity)
};

// The estimate for a configuration whose mapped file has `file_bytes`.
MemoryEstimate EstimateMemory(const LlamaConfig& config, uint64_t file_bytes,
                              const MemoryModelOptions& options);

// Reads the configuration from the file's metadata (without mapping the weights for use).
Result<MemoryEstimate> EstimateMemoryForFile(const std::string& path, const MemoryModelOptions& options);

}  // namespace quantlab
