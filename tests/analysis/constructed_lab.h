// Constructed lab results for the analysis and report tests: formats with chosen sizes, losses and speeds.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "quantlab/analysis/results.h"

namespace quantlab::analysis {

// A lab with chunked perplexities: each format's per-chunk mean NLL is the base's plus `loss_nll` plus
// small paired noise, so the true PPL increase is exp(loss_nll) - 1.
struct FormatSpec {
  std::string name;
  double mb;
  double loss_nll;
  double tg;
};

inline LabResults MakeLab(const std::vector<FormatSpec>& specs, int chunks = 20, uint32_t seed = 1) {
  LabResults r;
  r.model_name = "test";
  r.base_format = specs.front().name;
  r.datasets = {"prose"};
  r.context = 128;
  r.machine.threads = 2;
  std::mt19937 rng(seed);
  std::normal_distribution<double> chunk_level(3.0, 0.3), paired(0.0, 0.001);
  std::vector<double> base_nll(chunks);
  for (auto& v : base_nll) v = chunk_level(rng);
  for (const auto& s : specs) {
    FormatInfo f{s.name, static_cast<uint64_t>(s.mb * 1e6), 1000000, s.name == specs.front().name, 8 * s.mb};
    r.formats.push_back(f);
    PerplexityResult p{s.name, "prose", {}, {}};
    for (int i = 0; i < chunks; ++i) {
      const double noise = f.is_base ? 0.0 : paired(rng);
      p.chunk_nll_sum.push_back((base_nll[i] + s.loss_nll + noise) * 64);
      p.chunk_tokens.push_back(64);
    }
    r.perplexity.push_back(p);
    KldResult k;
    k.format = s.name;
    k.dataset = "prose";
    k.mean_kld = s.loss_nll * 0.5;
    r.kld.push_back(k);
    SpeedResult sp;
    sp.format = s.name;
    sp.tg_tps = s.tg;
    sp.tg_stddev = 0.1;
    sp.pp_stddev = 1.0;
    sp.repetitions = 5;  // 95% CI of tg: +-0.12 tok/s, so speeds 1 tok/s apart differ established
    sp.pp_tps = s.tg * 10;
    sp.predicted_ram_bytes = static_cast<uint64_t>(s.mb * 1.2e6);
    r.speed.push_back(sp);
  }
  return r;
}

inline std::vector<FormatSpec> Typical() {
  return {{"F16", 100, 0.0, 10},     {"Q8_0", 53, 0.001, 18},  {"Q6_K", 41, 0.003, 21},
          {"Q5_K_M", 35, 0.008, 23}, {"Q4_K_M", 30, 0.02, 25}, {"Q4_K_S", 28, 0.03, 26},
          {"Q3_K_M", 24, 0.08, 27}};
}

// Two prompts per format; greedy tokens agree with the base for fewer tokens the later the format comes.
inline void AddSamples(LabResults& r) {
  const char* words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "slept"};
  for (size_t f = 0; f < r.formats.size(); ++f) {
    for (int p = 0; p < 2; ++p) {
      GenerationSample s;
      s.format = r.formats[f].name;
      s.prompt_index = p;
      s.prompt = p == 0 ? "Once upon a time" : "The capital of <France> is";
      for (int t = 0; t < 10; ++t) {
        const bool same = t < 10 - static_cast<int>(f);
        s.greedy_tokens.push_back(same ? t : 100 + t);
        s.greedy_text += std::string(t ? " " : "") + (same ? words[t] : "dog");
        s.sampled_text += std::string(t ? " " : "") + words[(t + f) % 10];
      }
      r.samples.push_back(s);
    }
  }
}

}  // namespace quantlab::analysis
