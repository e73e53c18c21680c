#include "quantlab/eval/memory_model.h"

#include <algorithm>

#include "quantlab/gguf/model_checks.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/model/forward.h"

namespace quantlab {
namespace {

// Resident memory of the quantlab process before a model is loaded (binary, libstdc++, allocator
// arenas), measured with `quantlab bench` on Debian 12 x86-64: about 6 MiB. Tokenizer tables add
// roughly 100 bytes per vocabulary entry.
constexpr uint64_t kProcessBaselineBytes = 6ull << 20;
constexpr uint64_t kTokenizerBytesPerToken = 100;

}  // namespace

MemoryEstimate EstimateMemory(const LlamaConfig& c, uint64_t file_bytes, const MemoryModelOptions& o) {
  MemoryEstimate e;
  e.weights_bytes = file_bytes;
  const uint64_t n_ctx = static_cast<uint64_t>(std::max(o.n_ctx, 1));
  const uint64_t n_batch = static_cast<uint64_t>(std::clamp(o.n_batch, 1, o.n_ctx));
  e.kv_cache_bytes = 2ull * c.n_layer * n_ctx * c.n_embd_kv() * sizeof(uint16_t);

  // Per-token activation rows of the forward pass, in floats (see model/forward.h ForwardScratch):
  // residual, normed input, q, k, v, attention output, projection, gate, up, rope table.
  const uint64_t q_width = static_cast<uint64_t>(c.n_head) * c.head_dim;
  const uint64_t row_floats = 3ull * c.n_embd + 2 * q_width + 2ull * c.n_embd_kv() + 2ull * c.n_ff + c.n_rot;
  const uint64_t threads = static_cast<uint64_t>(std::max(o.n_threads, 1));
  // Per thread, for a group of up to 4 query vectors: scores and F16-rounded probabilities (F32) per
  // position, the rounded queries, and an F16 staging row.
  constexpr uint64_t kGroup = ForwardScratch::kAttentionGroup;
  const uint64_t attention = threads * (kGroup * (2 * n_ctx + c.head_dim) * sizeof(float) +
                                        std::max<uint64_t>(n_ctx, c.head_dim) * sizeof(uint16_t));
  // Activations converted to the widest vec_dot type (Q8_K: 292 bytes per 256 values).
  const uint64_t widest = static_cast<uint64_t>(std::max(c.n_embd, c.n_ff));
  const uint64_t converted = n_batch * (widest * 292 / 256 + 292);
  const uint64_t logits = static_cast<uint64_t>(std::max(o.n_outputs, 1)) * c.n_vocab * sizeof(float);
  e.scratch_bytes = n_batch * row_floats * sizeof(float) + attention + converted + logits;

  e.runtime_bytes = kProcessBaselineBytes + static_cast<uint64_t>(c.n_vocab) * kTokenizerBytesPerToken;
  return e;
}

Result<MemoryEstimate> EstimateMemoryForFile(const std::string& path, const MemoryModelOptions& options) {
  QL_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(path));
  QL_RETURN_IF_ERROR(CheckModelFile(file));
  const GgufTensorInfo* embd = file.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->shape.size() != 2) {
    return MakeError("{}: no 2-D token_embd.weight tensor; not a llama-family model", path);
  }
  QL_ASSIGN_OR_RETURN_CTX(const LlamaConfig config,
                          ReadLlamaConfig(file.metadata(), static_cast<int>(embd->shape[1])), "{}", path);
  return EstimateMemory(config, file.file_size(), options);
}

}  // namespace quantlab
