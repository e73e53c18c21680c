// The importance matrix, computed as llama-imatrix (llama.cpp c392e509) computes it, on quantlab's
// engine:
//   - the text is tokenized once with BOS and cut into consecutive chunks of n_ctx tokens, as for
//     perplexity (eval/perplexity.h); each chunk runs from an empty KV cache with its first token
//     replaced by BOS, and every one of its n_ctx tokens counts (not only the scored half);
//   - llama.cpp rounds the context up to a multiple of 32 (its KV cache padding) but sizes its batches
//     from the -c given: a chunk is decoded in batches of n_batch = min(2048, c) tokens, each split
//     into micro-batches of n_ubatch = min(512, n_batch); each micro-batch is one matrix product per
//     weight, and one "call" (ncall) of every weight it reaches. A micro-batch of fewer than 16 tokens
//     is ignored (so the < 32 padding tokens of a chunk usually are);
//   - the weights observed are those whose name starts with "blk." (plus output.weight with
//     process_output); token_embd is a lookup, not a product;
//   - per weight, sums of x_j^2 over every row x that entered it, accumulated in float row after row,
//     and the number of rows; the legacy file stores sum / rows * ncall per column (quant/imatrix.h),
//     the GGUF file the sums and the rows themselves (quant/imatrix_gguf.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/eval/perplexity.h"
#include "quantlab/model/activation_observer.h"
#include "quantlab/model/model.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/quant/imatrix_gguf.h"
#include "quantlab/util/result.h"

namespace quantlab {

class ThreadPool;

// llama.cpp's default batch and micro-batch sizes (n_batch, n_ubatch) and the smallest micro-batch its
// collector counts.
inline constexpr int kImatrixBatch = 2048;
inline constexpr int kImatrixMicroBatch = 512;
inline constexpr int kImatrixMinTokens = 16;

// The context llama-imatrix really uses for `-c n_ctx`: rounded up to a multiple of 32.
int ImatrixContextSize(int n_ctx);

// Accumulates the squared activations of the weights llama-imatrix observes. Entries keep the order in
// which the forward pass first reached them.
class ImatrixCollector : public ActivationObserver {
 public:
  explicit ImatrixCollector(bool process_output) : process_output_(process_output) {}

  void Observe(std::string_view weight_name, const float* x, int n_tokens, int64_t n_in) override;

  struct Entry {
    std::string name;
    std::vector<float> sums;  // (n_in) sum of x_j^2 over every row seen
    int64_t rows = 0;         // rows summed (the same for every column of a dense weight)
    int32_t ncall = 0;        // products that reached this weight
  };
  const std::vector<Entry>& entries() const { return entries_; }

  // The file llama-imatrix writes from these sums: per column sum / rows * ncall (in float, as it does),
  // then the trailer: the largest ncall (llama.cpp's last_call) and the dataset name.
  ImatrixDat ToDat(const std::string& dataset) const;
  // The GGUF file llama-imatrix writes: the sums and the rows summed, one matrix per weight (quantlab
  // refuses MoE models), with the chunks processed and the tokens per chunk.
  ImatrixGguf ToGguf(const std::string& dataset, uint32_t chunk_count, uint32_t chunk_size) const;

 private:
  bool Wanted(std::string_view name) const;

  bool process_output_;
  std::vector<Entry> entries_;
};

struct ImatrixOptions {
  int n_ctx = 512;              // as given to -c (rounded up with ImatrixContextSize)
  int max_chunks = -1;          // -1: every whole chunk of the text
  bool process_output = false;  // also observe output.weight (llama-imatrix --process-output)
};

struct ImatrixResult {
  ImatrixDat dat;
  ImatrixGguf gguf;
  int n_ctx = 0;  // the context used (after rounding)
  int n_chunks = 0;
  size_t n_tokens = 0;  // of the whole text, BOS included
  double seconds = 0;
};

// Called after each chunk with (chunks done, chunks in all).
using ImatrixProgress = std::function<void(int done, int total)>;

// A checked request: the tokenized text cut into chunks of the (rounded) context.
struct ImatrixInput {
  ImatrixOptions options;
  PerplexityTokens tokens;  // n_ctx is the rounded context
};

// Checks the request against the model and tokenizes the text. Errors: context < 1 or (rounded) larger
// than the model's training context, --chunks 0 or < -1, empty text, text shorter than two chunks
// (llama-imatrix's rule).
Result<ImatrixInput> PrepareImatrix(const Model& model, std::string_view text, const ImatrixOptions& options);

// Computes the importance matrix of a prepared request.
Result<ImatrixResult> ComputeImatrix(const Model& model, const ImatrixInput& input, ThreadPool& pool,
                                     const std::string& dataset_name, const ImatrixProgress& progress = {});

// Both steps in one call.
Result<ImatrixResult> ComputeImatrix(const Model& model, std::string_view text, const ImatrixOptions& options,
                                     ThreadPool& pool, const std::string& dataset_name,
                                     const ImatrixProgress& progress = {});

}  // namespace quantlab
