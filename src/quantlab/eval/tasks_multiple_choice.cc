// Multiple-choice accuracy (tasks.h).
#include <fmt/format.h>

#include "quantlab/eval/task_scoring.h"
#include "quantlab/eval/tasks.h"

namespace quantlab {

Result<std::vector<TokenizedTask>> PrepareMultipleChoice(const Tokenizer& tokenizer,
                                                         const std::vector<MultipleChoiceTask>& tasks,
                                                         const TaskOptions& options) {
  std::vector<TokenizedTask> prepared;
  for (const MultipleChoiceTask& task : tasks) {
    const std::string what = fmt::format("multiple-choice task {} (byte {})", task.index + 1, task.offset);
    std::vector<std::vector<int32_t>> sequences;
    for (const std::string& answer : task.answers) {
      sequences.push_back(tokenizer.Encode(task.question + " " + answer, /*add_special=*/true));
    }
    const size_t cp = CommonPrefixLength(sequences);
    QL_RETURN_IF_ERROR(CheckTaskSequences(sequences, cp, options.n_ctx, what));
    prepared.push_back({std::move(sequences), cp});
  }
  return prepared;
}

Result<std::vector<TaskOutcome>> ScoreMultipleChoice(Session& session,
                                                     const std::vector<MultipleChoiceTask>& tasks,
                                                     const TaskOptions& options,
                                                     const TaskCallback& on_task) {
  QL_ASSIGN_OR_RETURN(const std::vector<TokenizedTask> prepared,
                      PrepareMultipleChoice(session.model().tokenizer(), tasks, options));
  std::vector<TaskOutcome> outcomes;
  int n_correct = 0;
  for (const MultipleChoiceTask& task : tasks) {
    const std::string what = fmt::format("multiple-choice task {} (byte {})", task.index + 1, task.offset);
    const std::vector<std::vector<int32_t>>& sequences = prepared[&task - tasks.data()].sequences;
    const size_t cp = prepared[&task - tasks.data()].common_prefix;
    QL_ASSIGN_OR_RETURN_CTX(const SharedPrefixLogits logits, EvaluateSharedPrefix(session, sequences, cp),
                            "{}", what);
    const auto log_probs = EndingTokenLogProbs(logits, sequences);

    TaskOutcome outcome;
    outcome.index = task.index;
    outcome.n_candidates = static_cast<int>(task.answers.size());
    outcome.gold = -1;
    for (size_t s = 0; s < task.labels.size(); ++s) {
      if (task.labels[s] == 1) {
        outcome.gold = static_cast<int>(s);
        break;
      }
    }
    std::vector<float> means;  // the reference keeps the sum and the mean in float
    for (const auto& lp : log_probs) {
      float sum = 0;
      for (float v : lp) sum += v;
      means.push_back(sum / static_cast<float>(lp.size()));
      outcome.scores.push_back(means.back());
    }
    for (size_t s = 1; s < means.size(); ++s) {
      if (means[s] > means[static_cast<size_t>(outcome.chosen)]) outcome.chosen = static_cast<int>(s);
    }
    outcome.correct = task.labels[static_cast<size_t>(outcome.chosen)] == 1;
    n_correct += outcome.correct;
    outcomes.push_back(std::move(outcome));
    if (on_task) on_task(outcomes.back(), static_cast<int>(outcomes.size()), n_correct);
  }
  return outcomes;
}

}  // namespace quantlab
