// What the three task scores share: the log-probability arithmetic llama-perplexity (c392e50) uses
// for them, and the evaluation of a task's sequences with their common prefix computed once.
//
// llama-perplexity puts a task's sequences into one batch as separate KV sequences: the common prefix
// once (shared by all of them), then each sequence's remaining tokens. Attention never crosses
// sequences, so evaluating the prefix, then each sequence's rest after the cached prefix (the cache
// cut back to the prefix in between), is the same computation; only which logits are kept matters.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "quantlab/eval/tasks.h"
#include "quantlab/model/model.h"
#include "quantlab/util/result.h"

namespace quantlab {

// log p(token) from `logits` as the reference's compute_logprobs: max, then the sum of expf(l - max)
// accumulated in float in vocabulary order, then logit - max - log(sum), all in float.
float TaskTokenLogProb(std::span<const float> logits, int32_t token);

// log p(token) as the reference's softmax() + std::log: the sum of expf in double, each probability
// rounded to float, its logarithm taken in float. Used for an ending's first token.
float TaskSoftmaxLogProb(std::span<const float> logits, int32_t token);

// How many leading tokens all `sequences` share.
size_t CommonPrefixLength(std::span<const std::vector<int32_t>> sequences);

// The logits of a task's sequences.
class SharedPrefixLogits {
 public:
  // Logits after the token at `position` of sequence `s` (they predict position + 1);
  // position >= common_prefix - 1 (the prefix's last position is the same row for every sequence).
  std::span<const float> After(size_t s, size_t position) const;
  size_t common_prefix() const { return common_prefix_; }

 private:
  friend Result<SharedPrefixLogits> EvaluateSharedPrefix(Session&, std::span<const std::vector<int32_t>>,
                                                         size_t);
  int n_vocab_ = 0;
  size_t common_prefix_ = 0;
  std::vector<float> prefix_;             // (n_vocab): after position common_prefix - 1
  std::vector<std::vector<float>> rest_;  // rest_[s]: (len_s - common_prefix, n_vocab)
};

// Evaluates the `common_prefix` tokens once and each sequence's remaining tokens after them.
// Requires 1 <= common_prefix < every sequence's length. Errors: a sequence longer than the session's
// context, a token outside the vocabulary.
Result<SharedPrefixLogits> EvaluateSharedPrefix(Session& session,
                                                std::span<const std::vector<int32_t>> sequences,
                                                size_t common_prefix);

}  // namespace quantlab

namespace quantlab {

// A task's candidate sequences, tokenized and checked before any task is evaluated, so that a bad task
// anywhere in the file is refused before the work starts.
struct TokenizedTask {
  std::vector<std::vector<int32_t>> sequences;
  size_t common_prefix = 0;
  size_t n_base[2] = {0, 0};  // Winogrande: where scoring starts in each sequence
};

// For HellaSwag and multiple choice: each sequence's log-probabilities of its tokens after the common
// prefix, the first from the prefix's logits through TaskSoftmaxLogProb, the others (all but the
// sequence's last logits, which predict nothing) through TaskTokenLogProb.
std::vector<std::vector<float>> EndingTokenLogProbs(const SharedPrefixLogits& logits,
                                                    std::span<const std::vector<int32_t>> sequences);

// Tokens the reference's batch needs for a task: the common prefix once plus each sequence's rest.
size_t RequiredTokens(std::span<const std::vector<int32_t>> sequences, size_t common_prefix);

// The checks every task kind makes before evaluating: a common prefix of at least one token (BOS), every
// sequence longer than it, and the task within `n_ctx` tokens. `what` names the task in errors.
Status CheckTaskSequences(std::span<const std::vector<int32_t>> sequences, size_t common_prefix, int n_ctx,
                          std::string_view what);

// Each kind's tokenization and checks of all its tasks, before any is evaluated (the scorers' first
// step, and CheckTasks'). Errors name the task.
Result<std::vector<TokenizedTask>> PrepareHellaswag(const Tokenizer& tokenizer,
                                                    const std::vector<HellaswagTask>& tasks,
                                                    const TaskOptions& options);
Result<std::vector<TokenizedTask>> PrepareWinogrande(const Tokenizer& tokenizer,
                                                     const std::vector<WinograndeTask>& tasks,
                                                     const TaskOptions& options);
Result<std::vector<TokenizedTask>> PrepareMultipleChoice(const Tokenizer& tokenizer,
                                                         const std::vector<MultipleChoiceTask>& tasks,
                                                         const TaskOptions& options);

}  // namespace quantlab
