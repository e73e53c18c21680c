// KL divergence and token-probability statistics of candidate models against a base model, as
// llama-perplexity --kl-divergence computes them, but without a logits file: base and candidates are
// evaluated chunk by chunk on the same perplexity chunks (see perplexity.h), keeping only one chunk of
// base log-probabilities (n_scored x n_vocab floats) in memory. Several candidates share one pass.
//
// Per-chunk results (KldChunk) hold plain sums plus the per-token KLD and Δp values (for percentiles),
// so a caller can store them, resume later and Merge them into a KldAccumulator.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "quantlab/eval/perplexity.h"
#include "quantlab/model/model.h"
#include "quantlab/util/result.h"

namespace quantlab {

// The sums llama.cpp keeps (kl_divergence_result); mergeable.
struct KldSums {
  int64_t count = 0;
  double sum_nll = 0, sum_nll2 = 0;            // candidate NLL of the actual next token
  double sum_nll_base = 0, sum_nll_base2 = 0;  // base NLL
  double sum_nll_nll_base = 0;
  double sum_kld = 0, sum_kld2 = 0;
  double sum_p_diff = 0, sum_p_diff2 = 0, sum_p_diff4 = 0;  // p_candidate(token) - p_base(token)
  float max_p_diff = 0;                                     // max |Δp|
  int64_t n_same_top = 0;                                   // argmax equal

  void Merge(const KldSums& other);
};

struct KldChunk {
  int index = 0;
  KldSums sums;
  std::vector<float> kld_values;     // per scored token, in order
  std::vector<float> p_diff_values;  // per scored token, in order
  double seconds = 0;                // candidate evaluation time
};

// Value ± uncertainty.
struct Estimate {
  double value = 0;
  double error = 0;  // one standard error, as llama.cpp prints after ±
};

// What llama-perplexity --kl-divergence prints, same formulas. Probabilities are fractions (llama.cpp
// prints them ×100 as %).
struct KldStats {
  int64_t count = 0;
  Estimate ppl, ppl_base;
  double log_ppl_correlation = 0;  // Cor(ln PPL(Q), ln PPL(base))
  Estimate log_ppl_ratio, ppl_ratio, ppl_diff;
  Estimate kld;  // mean
  float kld_max = 0, kld_p99_9 = 0, kld_p99 = 0, kld_median = 0, kld_p10 = 0, kld_p5 = 0, kld_p1 = 0,
        kld_min = 0;
  Estimate p_diff;  // mean Δp
  float p_diff_max = 0, p_diff_p99_9 = 0, p_diff_p99 = 0, p_diff_p95 = 0, p_diff_p90 = 0, p_diff_p75 = 0,
        p_diff_median = 0, p_diff_p25 = 0, p_diff_p10 = 0, p_diff_p5 = 0, p_diff_p1 = 0, p_diff_p0_1 = 0,
        p_diff_min = 0;
  Estimate p_diff_rms;
  Estimate same_top;  // fraction of tokens whose argmax agrees
};

// Merges chunks (in any order) and derives the statistics.
class KldAccumulator {
 public:
  void Add(const KldChunk& chunk);
  const KldSums& sums() const { return sums_; }
  int n_chunks() const { return n_chunks_; }
  // Percentiles need at least one value; with count == 0 everything is 0.
  KldStats Finish() const;

 private:
  KldSums sums_;
  int n_chunks_ = 0;
  std::vector<float> kld_values_;
  std::vector<float> p_diff_values_;
};

// Base log-probabilities of one chunk's scored positions: (n_scored, n_vocab) log-softmax, plus the
// targets. This is the only base state kept.
struct BaseChunkLogProbs {
  int index = 0;
  int n_vocab = 0;
  std::vector<float> log_probs;  // (n_scored, n_vocab)
  std::vector<int32_t> targets;  // n_scored
  NllStats base_nll;             // base perplexity sums of this chunk
};

Result<BaseChunkLogProbs> EvaluateBaseChunk(Session& base, const PerplexityTokens& tokens, int i);
// Evaluates a candidate on chunk i against `base` (same tokens). Errors: vocabulary sizes differ.
Result<KldChunk> EvaluateKldChunk(Session& candidate, const PerplexityTokens& tokens,
                                  const BaseChunkLogProbs& base);
// Compares one chunk of candidate logits (n_scored, n_vocab) with the base (llama.cpp's arithmetic).
// With a pool, tokens are compared in parallel (the sums are still taken in token order).
KldChunk CompareChunkLogits(std::span<const float> candidate_logits, const BaseChunkLogProbs& base,
                            ThreadPool* pool = nullptr);

struct KldOptions {
  int n_ctx = 512;
  int max_chunks = -1;
  int first_chunk = 0;
};

struct KldResult {
  KldAccumulator accumulator;  // over the chunks evaluated in this call
  KldStats stats;
};

// Called after each chunk with the base chunk sums and one KldChunk per candidate. Return false to stop.
using KldCallback =
    std::function<bool(int chunk, const NllStats& base_chunk, std::span<const KldChunk> candidates,
                       int chunks_done, int chunks_total)>;

// One result per candidate, in order. Tokenizes with the base's tokenizer. Errors as perplexity, plus
// vocabulary mismatch between base and a candidate.
Result<std::vector<KldResult>> ComputeKld(Session& base, std::span<Session* const> candidates,
                                          std::string_view text, const KldOptions& options,
                                          const KldCallback& on_chunk = {});

}  // namespace quantlab
