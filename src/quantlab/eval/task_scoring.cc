#include "quantlab/eval/task_scoring.h"

#include <algorithm>
#include <cmath>

#include "quantlab/util/check.h"

namespace quantlab {

float TaskTokenLogProb(std::span<const float> logits, int32_t token) {
  float max_logit = logits[0];
  for (size_t j = 1; j < logits.size(); ++j) max_logit = std::max(max_logit, logits[j]);
  float sum_p = 0.f;
  for (float v : logits) sum_p += std::exp(v - max_logit);
  return logits[static_cast<size_t>(token)] - max_logit - std::log(sum_p);
}

float TaskSoftmaxLogProb(std::span<const float> logits, int32_t token) {
  float max_logit = logits[0];
  for (float v : logits) max_logit = std::max(max_logit, v);
  double sum_exp = 0.0;
  for (float v : logits) sum_exp += std::exp(v - max_logit);
  const float exp_token = std::exp(logits[static_cast<size_t>(token)] - max_logit);
  const auto prob = static_cast<float>(exp_token / sum_exp);
  return std::log(prob);
}

size_t CommonPrefixLength(std::span<const std::vector<int32_t>> sequences) {
  if (sequences.empty()) return 0;
  size_t min_len = sequences[0].size();
  for (const auto& s : sequences) min_len = std::min(min_len, s.size());
  size_t k = 0;
  for (; k < min_len; ++k) {
    const int32_t token = sequences[0][k];
    if (!std::all_of(sequences.begin(), sequences.end(), [&](const auto& s) { return s[k] == token; })) break;
  }
  return k;
}

std::span<const float> SharedPrefixLogits::After(size_t s, size_t position) const {
  QL_CHECK(s < rest_.size() && position + 1 >= common_prefix_);
  const auto n = static_cast<size_t>(n_vocab_);
  if (position + 1 == common_prefix_) return prefix_;
  const size_t row = position - common_prefix_;
  QL_CHECK((row + 1) * n <= rest_[s].size());
  return std::span<const float>(rest_[s]).subspan(row * n, n);
}

Result<SharedPrefixLogits> EvaluateSharedPrefix(Session& session,
                                                std::span<const std::vector<int32_t>> sequences,
                                                size_t common_prefix) {
  QL_CHECK(common_prefix >= 1);
  for (const auto& s : sequences) {
    QL_CHECK(s.size() > common_prefix);
    if (s.size() > static_cast<size_t>(session.n_ctx())) {
      return MakeError("a sequence of {} tokens is longer than the context ({})", s.size(), session.n_ctx());
    }
  }
  SharedPrefixLogits out;
  out.n_vocab_ = session.n_vocab();
  out.common_prefix_ = common_prefix;
  session.Reset();
  const std::span<const int32_t> prefix = std::span<const int32_t>(sequences[0]).first(common_prefix);
  QL_ASSIGN_OR_RETURN(std::span<const float> prefix_logits, session.Decode(prefix, 1));
  out.prefix_.assign(prefix_logits.begin(), prefix_logits.end());
  out.rest_.resize(sequences.size());
  for (size_t s = 0; s < sequences.size(); ++s) {
    session.Truncate(static_cast<int>(common_prefix));
    const std::span<const int32_t> rest = std::span<const int32_t>(sequences[s]).subspan(common_prefix);
    QL_ASSIGN_OR_RETURN(std::span<const float> logits, session.Decode(rest, static_cast<int>(rest.size())));
    out.rest_[s].assign(logits.begin(), logits.end());
  }
  return out;
}

}  // namespace quantlab

namespace quantlab {

std::vector<std::vector<float>> EndingTokenLogProbs(const SharedPrefixLogits& logits,
                                                    std::span<const std::vector<int32_t>> sequences) {
  const size_t cp = logits.common_prefix();
  std::vector<std::vector<float>> out(sequences.size());
  for (size_t s = 0; s < sequences.size(); ++s) {
    const std::vector<int32_t>& seq = sequences[s];
    out[s].push_back(TaskSoftmaxLogProb(logits.After(s, cp - 1), seq[cp]));
    for (size_t j = cp; j + 1 < seq.size(); ++j)
      out[s].push_back(TaskTokenLogProb(logits.After(s, j), seq[j + 1]));
  }
  return out;
}

size_t RequiredTokens(std::span<const std::vector<int32_t>> sequences, size_t common_prefix) {
  size_t n = common_prefix;
  for (const auto& s : sequences) n += s.size() - common_prefix;
  return n;
}

Status CheckTaskSequences(std::span<const std::vector<int32_t>> sequences, size_t common_prefix, int n_ctx,
                          std::string_view what) {
  if (common_prefix == 0) {
    return MakeError(
        "{}: its sequences share no first token (the vocabulary adds no BOS); the reference "
        "cannot score such a task",
        what);
  }
  for (size_t s = 0; s < sequences.size(); ++s) {
    if (sequences[s].size() <= common_prefix) {
      return MakeError(
          "{}: candidate {} adds no token to the part all candidates share (is it empty or a "
          "prefix of the others?)",
          what, s + 1);
    }
  }
  const size_t required = RequiredTokens(sequences, common_prefix);
  if (required > static_cast<size_t>(n_ctx)) {
    return MakeError(
        "{}: needs {} tokens (shared prefix once plus each candidate's rest), more than the "
        "context of {} (-c)",
        what, required, n_ctx);
  }
  return Ok();
}

}  // namespace quantlab
