// Perplexity with llama.cpp's method (llama-perplexity without --ppl-stride), so figures compare with
// theirs: the text is tokenized once with BOS (when the vocabulary adds one); it is cut into
// consecutive chunks of n_ctx tokens (a trailing partial chunk is dropped); each chunk is evaluated
// from an empty KV cache with its first token replaced by BOS; only the second half is scored — the
// logits at positions n_ctx/2 .. n_ctx-2 predicting the next token, n_ctx - 1 - n_ctx/2 tokens per
// chunk; PPL = exp(mean NLL) and its uncertainty is ppl * sqrt(var(NLL) / (N - 1)).
//
// Per-chunk statistics are plain sums (NllStats) so that a caller can store them, resume at a later
// chunk (PerplexityOptions::first_chunk) and merge the stored and the new ones.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "quantlab/model/model.h"
#include "quantlab/util/result.h"

namespace quantlab {

// Sums over scored tokens of the negative log-likelihood (natural log); mergeable.
struct NllStats {
  int64_t count = 0;
  double sum = 0;     // sum of NLL
  double sum_sq = 0;  // sum of NLL^2

  void Add(double nll) {
    ++count;
    sum += nll;
    sum_sq += nll * nll;
  }
  void Merge(const NllStats& other) {
    count += other.count;
    sum += other.sum;
    sum_sq += other.sum_sq;
  }
  double MeanNll() const { return count ? sum / count : 0.0; }
  double Ppl() const;        // exp(mean NLL)
  double PplStderr() const;  // llama.cpp's: ppl * sqrt((E[x^2] - E[x]^2) / (count - 1)); 0 if undefined
};

struct PerplexityOptions {
  int n_ctx = 512;      // tokens per chunk (the session's cache must hold at least this many)
  int max_chunks = -1;  // evaluate at most this many chunks (llama-perplexity's --chunks); -1 = all
  int first_chunk = 0;  // skip chunks before this one (resume); they count in n_chunks but not in stats
};

// The tokenized text cut into chunks.
struct PerplexityTokens {
  std::vector<int32_t> tokens;  // the whole text, with BOS first when the vocabulary adds one
  int n_ctx = 0;
  int n_chunks = 0;  // min(tokens / n_ctx, max_chunks)
  int32_t bos = -1;  // replaces each chunk's first token (-1: the vocabulary adds no BOS)

  int first_scored() const { return n_ctx / 2; }  // position of the first scored logit
  int n_scored_per_chunk() const { return n_ctx - 1 - n_ctx / 2; }
  // The n_ctx tokens fed for chunk `i` (first one already replaced by BOS).
  std::vector<int32_t> ChunkInput(int i) const;
  // The tokens the scored logits predict: n_scored_per_chunk() ids.
  std::span<const int32_t> ChunkTargets(int i) const;
};

// Tokenizes and chunks. Errors: empty text; fewer than 2 * n_ctx tokens ("the text tokenizes to only
// N tokens; perplexity with a context of C needs at least 2C"); n_ctx < 4.
Result<PerplexityTokens> TokenizeForPerplexity(const Tokenizer& tokenizer, std::string_view text, int n_ctx,
                                               int max_chunks = -1);

struct PerplexityChunk {
  int index = 0;   // chunk number, 0-based
  NllStats stats;  // this chunk's scored tokens only
  double seconds = 0;
};

// Evaluates chunk `i` from an empty cache (the session is Reset first). Errors: session n_ctx smaller
// than tokens.n_ctx, chunk out of range.
Result<PerplexityChunk> EvaluatePerplexityChunk(Session& session, const PerplexityTokens& tokens, int i);

// Log-softmax helper shared with KLD: NLL of `target` under `logits` (llama.cpp's arithmetic: max
// subtracted, sum of expf in double).
double TokenNll(std::span<const float> logits, int32_t target);

struct PerplexityResult {
  double ppl = 0;
  double ppl_stderr = 0;
  int n_ctx = 0;
  int n_chunks = 0;      // chunks evaluated in this call plus those skipped by first_chunk
  int64_t n_tokens = 0;  // tokens in the whole text (with BOS)
  NllStats stats;        // over the chunks evaluated in this call
  double seconds = 0;
  std::vector<PerplexityChunk> chunks;
};

// Called after each chunk with that chunk, the running totals (this call), and progress. Return false
// to stop early (the result then covers the chunks done).
using PerplexityCallback = std::function<bool(const PerplexityChunk& chunk, const NllStats& running,
                                              int chunks_done, int chunks_total)>;

// The whole method on `text`. Errors as TokenizeForPerplexity, plus n_ctx above the model's training
// context or the session's cache size.
Result<PerplexityResult> ComputePerplexity(Session& session, std::string_view text,
                                           const PerplexityOptions& options,
                                           const PerplexityCallback& on_chunk = {});
// Same on already tokenized text.
Result<PerplexityResult> ComputePerplexity(Session& session, const PerplexityTokens& tokens,
                                           const PerplexityOptions& options,
                                           const PerplexityCallback& on_chunk = {});

}  // namespace quantlab
