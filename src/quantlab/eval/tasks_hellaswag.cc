// HellaSwag's acc_norm (tasks.h).
#include <fmt/format.h>

#include "quantlab/eval/task_scoring.h"
#include "quantlab/eval/tasks.h"

namespace quantlab {

Result<std::vector<TokenizedTask>> PrepareHellaswag(const Tokenizer& tokenizer,
                                                    const std::vector<HellaswagTask>& tasks,
                                                    const TaskOptions& options) {
  std::vector<TokenizedTask> prepared;
  for (const HellaswagTask& task : tasks) {
    const std::string what = fmt::format("HellaSwag task {} (line {})", task.index + 1, task.line);
    std::vector<std::vector<int32_t>> sequences;
    for (const std::string& ending : task.endings) {
      sequences.push_back(tokenizer.Encode(task.context + " " + ending, /*add_special=*/true));
    }
    const size_t cp = CommonPrefixLength(sequences);
    QL_RETURN_IF_ERROR(CheckTaskSequences(sequences, cp, options.n_ctx, what));
    prepared.push_back({std::move(sequences), cp});
  }
  return prepared;
}

Result<std::vector<TaskOutcome>> ScoreHellaswag(Session& session, const std::vector<HellaswagTask>& tasks,
                                                const TaskOptions& options, const TaskCallback& on_task) {
  QL_ASSIGN_OR_RETURN(const std::vector<TokenizedTask> prepared,
                      PrepareHellaswag(session.model().tokenizer(), tasks, options));
  std::vector<TaskOutcome> outcomes;
  int n_correct = 0;
  for (const HellaswagTask& task : tasks) {
    const std::string what = fmt::format("HellaSwag task {} (line {})", task.index + 1, task.line);
    const std::vector<std::vector<int32_t>>& sequences = prepared[&task - tasks.data()].sequences;
    const size_t cp = prepared[&task - tasks.data()].common_prefix;
    QL_ASSIGN_OR_RETURN_CTX(const SharedPrefixLogits logits, EvaluateSharedPrefix(session, sequences, cp),
                            "{}", what);
    const auto log_probs = EndingTokenLogProbs(logits, sequences);

    TaskOutcome outcome;
    outcome.index = task.index;
    outcome.gold = task.gold;
    outcome.n_candidates = 4;
    for (const auto& lp : log_probs) {
      double sum = 0;  // the reference sums in double
      for (float v : lp) sum += v;
      outcome.scores.push_back(sum / static_cast<double>(lp.size()));
    }
    for (int s = 1; s < 4; ++s) {
      if (outcome.scores[s] > outcome.scores[outcome.chosen]) outcome.chosen = s;
    }
    outcome.correct = outcome.chosen == task.gold;
    n_correct += outcome.correct;
    outcomes.push_back(std::move(outcome));
    if (on_task) on_task(outcomes.back(), static_cast<int>(outcomes.size()), n_correct);
  }
  return outcomes;
}

}  // namespace quantlab
