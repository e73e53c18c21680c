#include "quantlab/eval/kld.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "quantlab/util/check.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab {
namespace {

// llama.cpp ignores base probabilities below e^-16 in the KLD sum (its stored log-probs are clamped to
// 16 nats below the maximum); the same cut keeps the figures comparable.
constexpr float kMinBaseLogProb = -16.0f;

struct TokenComparison {
  float nll = 0;       // candidate
  float nll_base = 0;  // base
  double kld = 0;
  float p_diff = 0;
  bool same_top = false;
};

TokenComparison CompareToken(std::span<const float> logits, std::span<const float> base_log_probs,
                             int32_t target) {
  const int n_vocab = static_cast<int>(logits.size());
  float max_logit = logits[0];
  int top = 0;
  for (int i = 1; i < n_vocab; ++i) {
    if (logits[i] > max_logit) {
      max_logit = logits[i];
      top = i;
    }
  }
  double sum_exp = 0;
  for (int i = 0; i < n_vocab; ++i) sum_exp += std::exp(logits[i] - max_logit);
  const float log_sum_exp = static_cast<float>(std::log(sum_exp));

  TokenComparison r;
  r.nll = max_logit + log_sum_exp - logits[target];
  r.nll_base = -base_log_probs[target];
  const float log_norm = max_logit + log_sum_exp;  // candidate log p_i = logits[i] - log_norm
  double kld = 0;
  int top_base = 0;
  for (int i = 0; i < n_vocab; ++i) {
    const float lp_base = base_log_probs[i];
    if (lp_base > base_log_probs[top_base]) top_base = i;
    if (lp_base > kMinBaseLogProb) kld += std::exp(lp_base) * (lp_base - logits[i] + log_norm);
  }
  r.kld = kld;
  r.same_top = top == top_base;
  r.p_diff = std::exp(-r.nll) - std::exp(-r.nll_base);
  return r;
}

// Percentile with linear interpolation between sorted values, as llama.cpp computes it.
float Percentile(const std::vector<float>& sorted, float fraction) {
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  float p = fraction * (sorted.size() - 1);
  const size_t ip = static_cast<size_t>(p);
  p -= ip;
  return (1 - p) * sorted[ip] + p * sorted[std::min(ip + 1, sorted.size() - 1)];
}

float Median(const std::vector<float>& sorted) {
  const size_t n = sorted.size();
  return n % 2 == 0 ? 0.5f * (sorted[n / 2] + sorted[n / 2 - 1]) : sorted[n / 2];
}

// Mean and its standard error from sums (llama.cpp: zero uncertainty for 10 or fewer values).
Estimate MeanAndError(double sum, double sum2, int64_t count) {
  if (count < 1) return {};
  const double mean = sum / count;
  double variance = sum2 / count - mean * mean;
  return {mean, variance > 0 && count > 10 ? std::sqrt(variance / (count - 1)) : 0.0};
}

double Covariance(double sum_a, double sum_b, double sum_ab, int64_t count) {
  if (count < 10) return 0.0;
  return (sum_ab / count - (sum_a / count) * (sum_b / count)) / (count - 1);
}

}  // namespace

void KldSums::Merge(const KldSums& o) {
  count += o.count;
  sum_nll += o.sum_nll;
  sum_nll2 += o.sum_nll2;
  sum_nll_base += o.sum_nll_base;
  sum_nll_base2 += o.sum_nll_base2;
  sum_nll_nll_base += o.sum_nll_nll_base;
  sum_kld += o.sum_kld;
  sum_kld2 += o.sum_kld2;
  sum_p_diff += o.sum_p_diff;
  sum_p_diff2 += o.sum_p_diff2;
  sum_p_diff4 += o.sum_p_diff4;
  max_p_diff = std::max(max_p_diff, o.max_p_diff);
  n_same_top += o.n_same_top;
}

void KldAccumulator::Add(const KldChunk& chunk) {
  sums_.Merge(chunk.sums);
  ++n_chunks_;
  kld_values_.insert(kld_values_.end(), chunk.kld_values.begin(), chunk.kld_values.end());
  p_diff_values_.insert(p_diff_values_.end(), chunk.p_diff_values.begin(), chunk.p_diff_values.end());
}

KldStats KldAccumulator::Finish() const {
  KldStats s;
  const KldSums& k = sums_;
  s.count = k.count;
  if (k.count == 0 || kld_values_.empty()) return s;

  const Estimate log_ppl = MeanAndError(k.sum_nll, k.sum_nll2, k.count);
  const Estimate log_ppl_base = MeanAndError(k.sum_nll_base, k.sum_nll_base2, k.count);
  s.ppl = {std::exp(log_ppl.value), std::exp(log_ppl.value) * log_ppl.error};
  s.ppl_base = {std::exp(log_ppl_base.value), std::exp(log_ppl_base.value) * log_ppl_base.error};
  const double cov = Covariance(k.sum_nll, k.sum_nll_base, k.sum_nll_nll_base, k.count);
  const double err_product = log_ppl.error * log_ppl_base.error;
  s.log_ppl_correlation = err_product > 0 ? cov / err_product : 1.0;
  const double ratio_var =
      log_ppl.error * log_ppl.error + log_ppl_base.error * log_ppl_base.error - 2.0 * cov;
  s.log_ppl_ratio = {log_ppl.value - log_ppl_base.value, std::sqrt(std::max(0.0, ratio_var))};
  s.ppl_ratio = {std::exp(s.log_ppl_ratio.value), std::exp(s.log_ppl_ratio.value) * s.log_ppl_ratio.error};
  const double ppl_cov = s.ppl.value * s.ppl_base.value * cov;
  const double diff_var = s.ppl.error * s.ppl.error + s.ppl_base.error * s.ppl_base.error - 2.0 * ppl_cov;
  s.ppl_diff = {s.ppl.value - s.ppl_base.value, std::sqrt(std::max(0.0, diff_var))};

  s.kld = MeanAndError(k.sum_kld, k.sum_kld2, k.count);
  std::vector<float> kld = kld_values_;
  std::sort(kld.begin(), kld.end());
  s.kld_max = kld.back();
  s.kld_p99_9 = Percentile(kld, 0.999f);
  s.kld_p99 = Percentile(kld, 0.990f);
  s.kld_median = Median(kld);
  s.kld_p10 = Percentile(kld, 0.100f);
  s.kld_p5 = Percentile(kld, 0.050f);
  s.kld_p1 = Percentile(kld, 0.010f);
  s.kld_min = kld.front();

  s.p_diff = MeanAndError(k.sum_p_diff, k.sum_p_diff2, k.count);
  std::vector<float> dp = p_diff_values_;
  std::sort(dp.begin(), dp.end());
  s.p_diff_max = dp.back();
  s.p_diff_p99_9 = Percentile(dp, 0.999f);
  s.p_diff_p99 = Percentile(dp, 0.990f);
  s.p_diff_p95 = Percentile(dp, 0.950f);
  s.p_diff_p90 = Percentile(dp, 0.900f);
  s.p_diff_p75 = Percentile(dp, 0.750f);
  s.p_diff_median = Median(dp);
  s.p_diff_p25 = Percentile(dp, 0.250f);
  s.p_diff_p10 = Percentile(dp, 0.100f);
  s.p_diff_p5 = Percentile(dp, 0.050f);
  s.p_diff_p1 = Percentile(dp, 0.010f);
  s.p_diff_p0_1 = Percentile(dp, 0.001f);
  s.p_diff_min = dp.front();

  const Estimate mse = MeanAndError(k.sum_p_diff2, k.sum_p_diff4, k.count);
  const double rms = std::sqrt(mse.value);
  s.p_diff_rms = {rms, rms > 0 ? 0.5 / rms * mse.error : 0.0};
  const double top = static_cast<double>(k.n_same_top) / k.count;
  s.same_top = {top, k.count > 1 ? std::sqrt(top * (1 - top) / (k.count - 1)) : 0.0};
  return s;
}

Result<BaseChunkLogProbs> EvaluateBaseChunk(Session& base, const PerplexityTokens& tokens, int i) {
  if (base.n_ctx() < tokens.n_ctx) {
    return MakeError("the base session's context ({}) is smaller than the KLD context ({})", base.n_ctx(),
                     tokens.n_ctx);
  }
  if (i < 0 || i >= tokens.n_chunks)
    return MakeError("chunk {} out of range (0..{})", i, tokens.n_chunks - 1);
  const std::vector<int32_t> input = tokens.ChunkInput(i);
  const int n_scored = tokens.n_scored_per_chunk();
  base.Reset();
  QL_ASSIGN_OR_RETURN(std::span<const float> logits,
                      base.Decode(std::span<const int32_t>(input).first(input.size() - 1), n_scored));
  BaseChunkLogProbs b;
  b.index = i;
  b.n_vocab = base.n_vocab();
  const std::span<const int32_t> targets = tokens.ChunkTargets(i);
  b.targets.assign(targets.begin(), targets.end());
  b.log_probs.resize(logits.size());
  std::vector<double> nll(n_scored);
  base.pool().ParallelFor(n_scored, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const std::span<const float> row = logits.subspan(static_cast<size_t>(j) * b.n_vocab, b.n_vocab);
      float max_logit = row[0];
      for (float v : row) max_logit = std::max(max_logit, v);
      double sum_exp = 0;
      for (float v : row) sum_exp += std::exp(v - max_logit);
      const float log_norm = max_logit + static_cast<float>(std::log(sum_exp));
      float* out = b.log_probs.data() + static_cast<size_t>(j) * b.n_vocab;
      for (int v = 0; v < b.n_vocab; ++v) out[v] = row[v] - log_norm;
      nll[j] = TokenNll(row, b.targets[j]);
    }
  });
  for (double v : nll) b.base_nll.Add(v);
  return b;
}

KldChunk CompareChunkLogits(std::span<const float> candidate_logits, const BaseChunkLogProbs& base,
                            ThreadPool* pool) {
  const int n_scored = static_cast<int>(base.targets.size());
  const size_t n_vocab = base.n_vocab;
  QL_CHECK(candidate_logits.size() == n_scored * n_vocab && base.log_probs.size() == candidate_logits.size());
  std::vector<TokenComparison> per_token(n_scored);
  const auto compare = [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      per_token[j] =
          CompareToken(candidate_logits.subspan(j * n_vocab, n_vocab),
                       std::span<const float>(base.log_probs).subspan(j * n_vocab, n_vocab), base.targets[j]);
    }
  };
  if (pool != nullptr) {
    pool->ParallelFor(n_scored, compare);
  } else {
    compare(0, n_scored);
  }
  // Summed in token order: the same figures whatever the thread count.
  KldChunk chunk;
  chunk.index = base.index;
  KldSums& k = chunk.sums;
  for (const TokenComparison& t : per_token) {
    ++k.count;
    k.sum_nll += t.nll;
    k.sum_nll2 += t.nll * t.nll;
    k.sum_nll_base += t.nll_base;
    k.sum_nll_base2 += t.nll_base * t.nll_base;
    k.sum_nll_nll_base += t.nll * t.nll_base;
    k.sum_kld += t.kld;
    k.sum_kld2 += t.kld * t.kld;
    k.sum_p_diff += t.p_diff;
    const double p_diff2 = static_cast<double>(t.p_diff) * t.p_diff;
    k.sum_p_diff2 += p_diff2;
    k.sum_p_diff4 += p_diff2 * p_diff2;
    k.max_p_diff = std::max(k.max_p_diff, std::fabs(t.p_diff));
    k.n_same_top += t.same_top ? 1 : 0;
    chunk.kld_values.push_back(static_cast<float>(t.kld));
    chunk.p_diff_values.push_back(t.p_diff);
  }
  return chunk;
}

Result<KldChunk> EvaluateKldChunk(Session& candidate, const PerplexityTokens& tokens,
                                  const BaseChunkLogProbs& base) {
  if (candidate.n_vocab() != base.n_vocab) {
    return MakeError("vocabulary sizes differ: candidate {} has {} tokens, the base {}",
                     candidate.model().path(), candidate.n_vocab(), base.n_vocab);
  }
  if (candidate.n_ctx() < tokens.n_ctx) {
    return MakeError("the candidate session's context ({}) is smaller than the KLD context ({})",
                     candidate.n_ctx(), tokens.n_ctx);
  }
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> input = tokens.ChunkInput(base.index);
  candidate.Reset();
  QL_ASSIGN_OR_RETURN(
      std::span<const float> logits,
      candidate.Decode(std::span<const int32_t>(input).first(input.size() - 1), tokens.n_scored_per_chunk()));
  KldChunk chunk = CompareChunkLogits(logits, base, &candidate.pool());
  chunk.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return chunk;
}

Result<std::vector<KldResult>> ComputeKld(Session& base, std::span<Session* const> candidates,
                                          std::string_view text, const KldOptions& options,
                                          const KldCallback& on_chunk) {
  const int n_ctx_train = base.model().config().n_ctx_train;
  if (options.n_ctx > n_ctx_train) {
    return MakeError("context size {} is larger than the base model's training context {}", options.n_ctx,
                     n_ctx_train);
  }
  for (Session* c : candidates) {
    if (c->n_vocab() != base.n_vocab()) {
      return MakeError("vocabulary sizes differ: {} has {} tokens, the base {} has {}", c->model().path(),
                       c->n_vocab(), base.model().path(), base.n_vocab());
    }
    if (options.n_ctx > c->model().config().n_ctx_train) {
      return MakeError("context size {} is larger than {}'s training context {}", options.n_ctx,
                       c->model().path(), c->model().config().n_ctx_train);
    }
  }
  QL_ASSIGN_OR_RETURN(PerplexityTokens tokens, TokenizeForPerplexity(base.model().tokenizer(), text,
                                                                     options.n_ctx, options.max_chunks));
  if (options.first_chunk < 0 || options.first_chunk > tokens.n_chunks) {
    return MakeError("first chunk {} out of range (0..{})", options.first_chunk, tokens.n_chunks);
  }
  std::vector<KldResult> results(candidates.size());
  std::vector<KldChunk> chunk_results(candidates.size());
  const int total = tokens.n_chunks - options.first_chunk;
  for (int i = options.first_chunk; i < tokens.n_chunks; ++i) {
    QL_ASSIGN_OR_RETURN(BaseChunkLogProbs base_chunk, EvaluateBaseChunk(base, tokens, i));
    for (size_t c = 0; c < candidates.size(); ++c) {
      QL_ASSIGN_OR_RETURN(chunk_results[c], EvaluateKldChunk(*candidates[c], tokens, base_chunk));
      results[c].accumulator.Add(chunk_results[c]);
    }
    if (on_chunk && !on_chunk(i, base_chunk.base_nll, chunk_results, i - options.first_chunk + 1, total))
      break;
  }
  for (KldResult& r : results) r.stats = r.accumulator.Finish();
  return results;
}

}  // namespace quantlab
