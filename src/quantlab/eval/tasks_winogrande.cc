// Winogrande accuracy (tasks.h). The scored token ranges follow the reference's index arithmetic
// exactly, including which logits score the second choice's first token when the choice itself is
// scored (see tasks.h).
#include <fmt/format.h>

#include "quantlab/eval/task_scoring.h"
#include "quantlab/eval/tasks.h"

namespace quantlab {
namespace {

// With both sequences longer than this after their common prefix, only the text after the choice is
// scored (the reference's k_min_trailing_ctx).
constexpr size_t kMinTrailingTokens = 3;

struct ScoredRange {
  size_t first_position;  // logits after this position score the token at first_position + 1
  size_t end_position;    // one past the last such position
};

// The positions j (logits after token j predicting token j + 1) the reference scores for a sequence of
// `length` tokens whose scoring starts after `n_base` tokens.
ScoredRange RangeToScore(size_t length, size_t n_base) {
  const size_t skip_last = length - n_base > 1 ? 1 : 0;
  return {n_base - 1, length - 1 - skip_last};
}

}  // namespace

Result<std::vector<TokenizedTask>> PrepareWinogrande(const Tokenizer& tokenizer,
                                                     const std::vector<WinograndeTask>& tasks,
                                                     const TaskOptions& options) {
  std::vector<TokenizedTask> prepared;
  for (const WinograndeTask& task : tasks) {
    const std::string what = fmt::format("Winogrande task {} (line {})", task.index + 1, task.line);
    std::vector<std::vector<int32_t>> sequences;
    size_t n_base[2];
    for (int c = 0; c < 2; ++c) {
      sequences.push_back(tokenizer.Encode(task.first + task.choices[c] + task.second, /*add_special=*/true));
      n_base[c] = tokenizer.Encode(task.first + task.choices[c], /*add_special=*/true).size();
    }
    const size_t cp = CommonPrefixLength(sequences);
    QL_RETURN_IF_ERROR(CheckTaskSequences(sequences, cp, options.n_ctx, what));
    const bool skip_choice =
        sequences[0].size() - cp > kMinTrailingTokens && sequences[1].size() - cp > kMinTrailingTokens;
    for (int c = 0; c < 2; ++c) {
      if (!skip_choice) n_base[c] = cp;
      // Outside these bounds the reference would read another task's logits or none.
      if (n_base[c] < cp || n_base[c] >= sequences[c].size()) {
        return MakeError(
            "{}: choice {} ends at token {}, outside the part that can be scored ({}..{}); the "
            "reference cannot score it either",
            what, c + 1, n_base[c], cp, sequences[c].size() - 1);
      }
    }
    prepared.push_back({std::move(sequences), cp, {n_base[0], n_base[1]}});
  }
  return prepared;
}

Result<std::vector<TaskOutcome>> ScoreWinogrande(Session& session, const std::vector<WinograndeTask>& tasks,
                                                 const TaskOptions& options, const TaskCallback& on_task) {
  QL_ASSIGN_OR_RETURN(const std::vector<TokenizedTask> prepared,
                      PrepareWinogrande(session.model().tokenizer(), tasks, options));
  std::vector<TaskOutcome> outcomes;
  int n_correct = 0;
  for (const WinograndeTask& task : tasks) {
    const std::string what = fmt::format("Winogrande task {} (line {})", task.index + 1, task.line);
    const TokenizedTask& prepared_task = prepared[&task - tasks.data()];
    const std::vector<std::vector<int32_t>>& sequences = prepared_task.sequences;
    const size_t cp = prepared_task.common_prefix;
    const size_t* n_base = prepared_task.n_base;
    QL_ASSIGN_OR_RETURN_CTX(const SharedPrefixLogits logits, EvaluateSharedPrefix(session, sequences, cp),
                            "{}", what);

    TaskOutcome outcome;
    outcome.index = task.index;
    outcome.gold = task.answer - 1;
    outcome.n_candidates = 2;
    float score[2];
    for (size_t c = 0; c < 2; ++c) {
      const std::vector<int32_t>& seq = sequences[c];
      const ScoredRange range = RangeToScore(seq.size(), n_base[c]);
      float sum = 0;
      for (size_t j = range.first_position; j < range.end_position; ++j) {
        // The reference's batch index for the second choice's first scored token, when that is the
        // shared prefix's last position, lands on the first sequence's last logits instead.
        const bool misplaced = c == 1 && j + 1 == cp;
        const std::span<const float> row =
            misplaced ? logits.After(0, sequences[0].size() - 1) : logits.After(c, j);
        sum += TaskTokenLogProb(row, seq[j + 1]);
      }
      score[c] = sum / static_cast<float>(range.end_position - range.first_position);
      outcome.scores.push_back(score[c]);
    }
    outcome.chosen = score[0] > score[1] ? 0 : 1;
    outcome.correct = outcome.chosen == outcome.gold;
    n_correct += outcome.correct;
    outcomes.push_back(std::move(outcome));
    if (on_task) on_task(outcomes.back(), static_cast<int>(outcomes.size()), n_correct);
  }
  return outcomes;
}

}  // namespace quantlab
