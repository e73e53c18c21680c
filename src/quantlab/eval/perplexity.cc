#include "quantlab/eval/perplexity.h"

#include <chrono>
#include <cmath>

#include "quantlab/util/check.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {

double NllStats::Ppl() const { return std::exp(MeanNll()); }

double NllStats::PplStderr() const {
  if (count < 2) return 0.0;
  const double mean = sum / count;
  const double variance = sum_sq / count - mean * mean;
  if (variance <= 0) return 0.0;
  return Ppl() * std::sqrt(variance / (count - 1));
}

std::vector<int32_t> PerplexityTokens::ChunkInput(int i) const {
  QL_CHECK(i >= 0 && i < n_chunks);
  const auto begin = tokens.begin() + static_cast<size_t>(i) * n_ctx;
  std::vector<int32_t> input(begin, begin + n_ctx);
  if (bos >= 0) input[0] = bos;
  return input;
}

std::span<const int32_t> PerplexityTokens::ChunkTargets(int i) const {
  QL_CHECK(i >= 0 && i < n_chunks);
  return std::span<const int32_t>(tokens).subspan(static_cast<size_t>(i) * n_ctx + first_scored() + 1,
                                                  n_scored_per_chunk());
}

Result<PerplexityTokens> TokenizeForPerplexity(const Tokenizer& tokenizer, std::string_view text, int n_ctx,
                                               int max_chunks) {
  if (n_ctx < 4) return MakeError("context size {} is too small for perplexity (need at least 4)", n_ctx);
  if (text.empty()) return MakeError("the text is empty");
  PerplexityTokens t;
  t.n_ctx = n_ctx;
  t.tokens = tokenizer.Encode(text, /*add_special=*/true);
  t.bos = tokenizer.add_bos() ? tokenizer.bos() : -1;
  if (t.tokens.size() < static_cast<size_t>(2) * n_ctx) {
    return MakeError(
        "the text tokenizes to only {} tokens; perplexity with a context of {} needs at least {} (two "
        "chunks)",
        t.tokens.size(), n_ctx, 2 * n_ctx);
  }
  const int64_t available = static_cast<int64_t>(t.tokens.size()) / n_ctx;
  t.n_chunks = static_cast<int>(max_chunks < 0 ? available : std::min<int64_t>(max_chunks, available));
  if (t.n_chunks < 1) return MakeError("--chunks must be at least 1 (got {})", max_chunks);
  return t;
}

double TokenNll(std::span<const float> logits, int32_t target) {
  float max_logit = logits[0];
  for (float v : logits) max_logit = std::max(max_logit, v);
  double sum_exp = 0;
  for (float v : logits) sum_exp += std::exp(v - max_logit);
  return -(logits[target] - max_logit - std::log(sum_exp));
}

Result<PerplexityChunk> EvaluatePerplexityChunk(Session& session, const PerplexityTokens& tokens, int i) {
  if (session.n_ctx() < tokens.n_ctx) {
    return MakeError("the session's context ({}) is smaller than the perplexity context ({})",
                     session.n_ctx(), tokens.n_ctx);
  }
  if (i < 0 || i >= tokens.n_chunks)
    return MakeError("chunk {} out of range (0..{})", i, tokens.n_chunks - 1);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> input = tokens.ChunkInput(i);
  const std::span<const int32_t> targets = tokens.ChunkTargets(i);
  const int n_scored = tokens.n_scored_per_chunk();
  // The last token's logits predict nothing inside the chunk, so it is not fed at all.
  session.Reset();
  QL_ASSIGN_OR_RETURN(std::span<const float> logits,
                      session.Decode(std::span<const int32_t>(input).first(input.size() - 1), n_scored));
  const int n_vocab = session.n_vocab();

  // Per-token NLLs in parallel, summed in token order so the result does not depend on the threads.
  std::vector<double> nll(n_scored);
  session.pool().ParallelFor(n_scored, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      nll[j] = TokenNll(logits.subspan(static_cast<size_t>(j) * n_vocab, n_vocab), targets[j]);
    }
  });
  PerplexityChunk chunk;
  chunk.index = i;
  for (double v : nll) chunk.stats.Add(v);
  chunk.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return chunk;
}

Result<PerplexityResult> ComputePerplexity(Session& session, const PerplexityTokens& tokens,
                                           const PerplexityOptions& options,
                                           const PerplexityCallback& on_chunk) {
  const int n_ctx_train = session.model().config().n_ctx_train;
  if (tokens.n_ctx > n_ctx_train) {
    return MakeError("context size {} is larger than the model's training context {}", tokens.n_ctx,
                     n_ctx_train);
  }
  if (tokens.n_ctx > session.n_ctx()) {
    return MakeError("context size {} is larger than the session's cache ({})", tokens.n_ctx,
                     session.n_ctx());
  }
  if (options.first_chunk < 0 || options.first_chunk > tokens.n_chunks) {
    return MakeError("first chunk {} out of range (0..{})", options.first_chunk, tokens.n_chunks);
  }
  const auto start = std::chrono::steady_clock::now();
  PerplexityResult result;
  result.n_ctx = tokens.n_ctx;
  result.n_tokens = static_cast<int64_t>(tokens.tokens.size());
  result.n_chunks = options.first_chunk;
  const int total = tokens.n_chunks - options.first_chunk;
  for (int i = options.first_chunk; i < tokens.n_chunks; ++i) {
    QL_ASSIGN_OR_RETURN(PerplexityChunk chunk, EvaluatePerplexityChunk(session, tokens, i));
    result.stats.Merge(chunk.stats);
    result.chunks.push_back(chunk);
    ++result.n_chunks;
    if (on_chunk && !on_chunk(chunk, result.stats, static_cast<int>(result.chunks.size()), total)) break;
  }
  result.ppl = result.stats.Ppl();
  result.ppl_stderr = result.stats.PplStderr();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

Result<PerplexityResult> ComputePerplexity(Session& session, std::string_view text,
                                           const PerplexityOptions& options,
                                           const PerplexityCallback& on_chunk) {
  const int n_ctx_train = session.model().config().n_ctx_train;
  if (options.n_ctx > n_ctx_train) {
    return MakeError("context size {} is larger than the model's training context {}", options.n_ctx,
                     n_ctx_train);
  }
  QL_ASSIGN_OR_RETURN(PerplexityTokens tokens, TokenizeForPerplexity(session.model().tokenizer(), text,
                                                                     options.n_ctx, options.max_chunks));
  return ComputePerplexity(session, tokens, options, on_chunk);
}

}  // namespace quantlab
