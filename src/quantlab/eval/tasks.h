// Task accuracy as llama-perplexity (llama.cpp c392e50) scores it: HellaSwag, Winogrande and
// multiple-choice files (task_files.h), the same tasks drawn (task_random.h), the same tokens scored
// with the same arithmetic (task_scoring.h), so the accuracies equal the reference's.
//
// - HellaSwag: each ending is scored as context + " " + ending; its score is the mean log-probability
//   of its tokens after the common prefix of the 4 sequences (the first one from the prefix's logits);
//   the highest score (first on ties) is the answer ("acc_norm").
// - Multiple choice: the same with question + " " + answer, any number of answers, the mean summed in
//   float; right when the chosen answer's label is 1.
// - Winogrande: first + choice + second for both choices. When both sequences have more than 3 tokens
//   after their common prefix, only the tokens after the choice (those of `second`, bar the last) are
//   scored; else every token after the common prefix but the last. The reference scores the second
//   choice's first token in that second case with the logits after the first sequence's last token
//   (its "FIXME"); this is reproduced. Choice 1 wins only with a strictly higher mean.
//
// Every task must fit the context (-c): the common prefix plus every sequence's rest, in tokens.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quantlab/eval/task_files.h"
#include "quantlab/model/model.h"
#include "quantlab/util/result.h"

namespace quantlab {

enum class TaskKind { kHellaswag, kWinogrande, kMultipleChoice };
const char* TaskKindName(TaskKind kind);  // "hellaswag", "winogrande", "multiple-choice"

struct TaskOutcome {
  size_t index = 0;            // 0-based task number in the file
  int chosen = 0;              // 0-based index of the chosen ending / choice / answer
  int gold = 0;                // 0-based right one (multiple choice: the first labelled 1, -1 if none)
  bool correct = false;        // what the reference counts
  std::vector<double> scores;  // each candidate's score (mean log-probability)
  int n_candidates = 0;
};

// Called after each task with its outcome and the running totals (tasks done, right so far).
using TaskCallback = std::function<void(const TaskOutcome& outcome, int done, int correct)>;

struct TaskOptions {
  int n_ctx = 512;  // the reference's -c: a task's tokens must fit in it
};

// Scores `tasks` in the given order (after selection). Errors name the task: one that does not fit the
// context, or whose sequences cannot be scored the reference's way (an ending that adds no token).
Result<std::vector<TaskOutcome>> ScoreHellaswag(Session& session, const std::vector<HellaswagTask>& tasks,
                                                const TaskOptions& options, const TaskCallback& on_task = {});
Result<std::vector<TaskOutcome>> ScoreWinogrande(Session& session, const std::vector<WinograndeTask>& tasks,
                                                 const TaskOptions& options,
                                                 const TaskCallback& on_task = {});
Result<std::vector<TaskOutcome>> ScoreMultipleChoice(Session& session,
                                                     const std::vector<MultipleChoiceTask>& tasks,
                                                     const TaskOptions& options,
                                                     const TaskCallback& on_task = {});

// A task file read and the tasks drawn as llama-perplexity draws them: HellaSwag takes min(n, all) in
// random order (n = 400 by default there); Winogrande and multiple choice take all in file order when n
// is 0 or not below the count, else n drawn ones.
struct SelectedTasks {
  TaskKind kind = TaskKind::kHellaswag;
  size_t n_in_file = 0;
  std::vector<HellaswagTask> hellaswag;
  std::vector<WinograndeTask> winogrande;
  std::vector<MultipleChoiceTask> multiple_choice;
  std::vector<std::string> notes;  // e.g. a Winogrande line the reference does not read
  size_t size() const;
};
Result<SelectedTasks> LoadTasks(TaskKind kind, const std::string& path, size_t n_select);

// Tokenizes and checks every task of `tasks` as the scorers do before they evaluate anything (each fits
// `options.n_ctx`, each candidate adds a token, ...), without a model evaluation: the lab checks its task
// files with the base's tokenizer before any work. Errors name the task.
Status CheckTasks(const Tokenizer& tokenizer, const SelectedTasks& tasks, const TaskOptions& options);

// Scores whichever kind `tasks` holds.
Result<std::vector<TaskOutcome>> ScoreTasks(Session& session, const SelectedTasks& tasks,
                                            const TaskOptions& options, const TaskCallback& on_task = {});

}  // namespace quantlab
