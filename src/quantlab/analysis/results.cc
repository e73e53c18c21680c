#include "quantlab/analysis/results.h"

#include <algorithm>
#include <numeric>

#include "quantlab/analysis/stats.h"

namespace quantlab::analysis {

double PerplexityResult::MeanNll() const {
  const double nll = std::accumulate(chunk_nll_sum.begin(), chunk_nll_sum.end(), 0.0);
  const double tokens =
      static_cast<double>(std::accumulate(chunk_tokens.begin(), chunk_tokens.end(), int64_t{0}));
  return tokens > 0 ? nll / tokens : kNaN;
}

double PerplexityResult::Ppl() const { return std::exp(MeanNll()); }

double PerplexityResult::LogPplStderr() const {
  std::vector<double> means;
  for (size_t i = 0; i < chunk_nll_sum.size() && i < chunk_tokens.size(); ++i) {
    if (chunk_tokens[i] > 0) means.push_back(chunk_nll_sum[i] / static_cast<double>(chunk_tokens[i]));
  }
  if (means.size() < 2) return kNaN;
  return StdDev(means) / std::sqrt(static_cast<double>(means.size()));
}

const FormatInfo* LabResults::Format(const std::string& name) const {
  for (const auto& f : formats) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string LabResults::ReferenceText() const {
  if (unevaluated_base.empty()) return "Base " + base_format;
  return "Reference " + base_format + " (not the " + unevaluated_base + " base, which was not evaluated)";
}

const FormatInfo* LabResults::Base() const {
  for (const auto& f : formats) {
    if (f.is_base) return &f;
  }
  return Format(base_format);
}

const PerplexityResult* LabResults::Ppl(const std::string& format, const std::string& dataset) const {
  for (const auto& p : perplexity) {
    if (p.format == format && p.dataset == dataset) return &p;
  }
  return nullptr;
}

const KldResult* LabResults::Kld(const std::string& format, const std::string& dataset) const {
  for (const auto& k : kld) {
    if (k.format == format && k.dataset == dataset) return &k;
  }
  return nullptr;
}

const SpeedResult* LabResults::Speed(const std::string& format) const {
  for (const auto& s : speed) {
    if (s.format == format) return &s;
  }
  return nullptr;
}

const GenerationSample* LabResults::Sample(const std::string& format, int prompt_index) const {
  for (const auto& s : samples) {
    if (s.format == format && s.prompt_index == prompt_index) return &s;
  }
  return nullptr;
}

const TaskResult* LabResults::Task(const std::string& format, const std::string& task_set) const {
  for (const auto& t : tasks) {
    if (t.format == format && t.task_set == task_set) return &t;
  }
  return nullptr;
}

}  // namespace quantlab::analysis
