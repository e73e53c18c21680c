// Next-token sampling: greedy at temperature <= 0; otherwise top-k, then top-p (nucleus) over the
// softmax of logits / temperature, then a draw from a seeded std::mt19937_64 — the same seed and logits
// give the same tokens on every machine run.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace quantlab {

struct SamplerOptions {
  float temperature = 0.8f;  // <= 0: greedy (argmax, lowest id on ties)
  int top_k = 40;            // <= 0 or >= n_vocab: no top-k cut
  float top_p = 0.95f;       // >= 1: no nucleus cut
  uint64_t seed = 42;
};

class Sampler {
 public:
  explicit Sampler(const SamplerOptions& options);

  // Picks a token id from one row of logits.
  int32_t Sample(std::span<const float> logits);
  const SamplerOptions& options() const { return options_; }

 private:
  SamplerOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // scratch: (logit or prob, id)
};

// Index of the largest value (lowest index on ties).
int32_t ArgMax(std::span<const float> values);

}  // namespace quantlab
