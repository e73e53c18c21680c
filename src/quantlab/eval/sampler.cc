#include "quantlab/eval/sampler.h"

#include <algorithm>
#include <cmath>

namespace quantlab {

int32_t ArgMax(std::span<const float> values) {
  int32_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[best]) best = static_cast<int32_t>(i);
  }
  return best;
}

Sampler::Sampler(const SamplerOptions& options) : options_(options), rng_(options.seed) {}

int32_t Sampler::Sample(std::span<const float> logits) {
  if (options_.temperature <= 0.0f) return ArgMax(logits);
  const int n_vocab = static_cast<int>(logits.size());

  // Candidates sorted by logit, highest first (ties: lower id first, so the order is deterministic).
  candidates_.clear();
  for (int i = 0; i < n_vocab; ++i) candidates_.emplace_back(logits[i], i);
  const auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const int k = options_.top_k > 0 ? std::min(options_.top_k, n_vocab) : n_vocab;
  std::partial_sort(candidates_.begin(), candidates_.begin() + k, candidates_.end(), by_logit);
  candidates_.resize(k);

  // Softmax of logit / temperature.
  const float max_logit = candidates_.front().first;
  double sum = 0;
  for (auto& [value, id] : candidates_) {
    value = std::exp((value - max_logit) / options_.temperature);
    sum += value;
  }
  for (auto& [value, id] : candidates_) value = static_cast<float>(value / sum);

  // Nucleus: the smallest prefix whose probability reaches top_p (at least one token).
  if (options_.top_p < 1.0f) {
    double cumulative = 0;
    size_t keep = candidates_.size();
    for (size_t i = 0; i < candidates_.size(); ++i) {
      cumulative += candidates_[i].first;
      if (cumulative >= options_.top_p) {
        keep = i + 1;
        break;
      }
    }
    candidates_.resize(keep);
  }

  // Draw from the renormalised distribution with a platform-independent uniform in [0, total).
  double total = 0;
  for (const auto& c : candidates_) total += c.first;
  const double u = static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0) * total;
  double cumulative = 0;
  for (const auto& [p, id] : candidates_) {
    cumulative += p;
    if (u < cumulative) return id;
  }
  return candidates_.back().second;
}

}  // namespace quantlab
