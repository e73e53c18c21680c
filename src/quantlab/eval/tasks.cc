// Reading a task file and drawing its tasks as llama-perplexity does (tasks.h).
#include "quantlab/eval/tasks.h"

#include <fmt/format.h>

#include "quantlab/eval/task_random.h"
#include "quantlab/eval/task_scoring.h"
#include "quantlab/util/text_file.h"

namespace quantlab {

const char* TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kHellaswag:
      return "hellaswag";
    case TaskKind::kWinogrande:
      return "winogrande";
    case TaskKind::kMultipleChoice:
      return "multiple-choice";
  }
  return "?";
}

size_t SelectedTasks::size() const { return hellaswag.size() + winogrande.size() + multiple_choice.size(); }

Result<SelectedTasks> LoadTasks(TaskKind kind, const std::string& path, size_t n_select) {
  QL_ASSIGN_OR_RETURN(const std::string content, ReadText(path));
  SelectedTasks out;
  out.kind = kind;
  switch (kind) {
    case TaskKind::kHellaswag: {
      QL_ASSIGN_OR_RETURN(std::vector<HellaswagTask> all, ParseHellaswag(content, path));
      out.n_in_file = all.size();
      for (size_t i : HellaswagSelection(all.size(), n_select)) out.hellaswag.push_back(std::move(all[i]));
      break;
    }
    case TaskKind::kWinogrande: {
      QL_ASSIGN_OR_RETURN(WinograndeFile file, ParseWinogrande(content, path));
      out.n_in_file = file.tasks.size();
      if (file.ignored_last_line) {
        out.notes.push_back(fmt::format(
            "{}: line {} is not read: llama-perplexity never reads a last line that ends without a second "
            "newline (-f drops one); end the file with an empty line to score it",
            path, file.ignored_last_line));
      }
      for (size_t i : ScaledSelection(file.tasks.size(), n_select))
        out.winogrande.push_back(std::move(file.tasks[i]));
      break;
    }
    case TaskKind::kMultipleChoice: {
      QL_ASSIGN_OR_RETURN(const MultipleChoiceHeader header, ParseMultipleChoiceHeader(content, path));
      out.n_in_file = header.n_tasks;
      const bool drawn = n_select != 0 && n_select < header.n_tasks;
      QL_ASSIGN_OR_RETURN(
          out.multiple_choice,
          ParseMultipleChoiceTasks(content, path, header, ScaledSelection(header.n_tasks, n_select),
                                   /*at_offsets=*/drawn));
      break;
    }
  }
  return out;
}

Status CheckTasks(const Tokenizer& tokenizer, const SelectedTasks& tasks, const TaskOptions& options) {
  Result<std::vector<TokenizedTask>> prepared = MakeError("unknown task kind");
  switch (tasks.kind) {
    case TaskKind::kHellaswag:
      prepared = PrepareHellaswag(tokenizer, tasks.hellaswag, options);
      break;
    case TaskKind::kWinogrande:
      prepared = PrepareWinogrande(tokenizer, tasks.winogrande, options);
      break;
    case TaskKind::kMultipleChoice:
      prepared = PrepareMultipleChoice(tokenizer, tasks.multiple_choice, options);
      break;
  }
  if (!prepared.ok()) return prepared.error();
  return Ok();
}

Result<std::vector<TaskOutcome>> ScoreTasks(Session& session, const SelectedTasks& tasks,
                                            const TaskOptions& options, const TaskCallback& on_task) {
  switch (tasks.kind) {
    case TaskKind::kHellaswag:
      return ScoreHellaswag(session, tasks.hellaswag, options, on_task);
    case TaskKind::kWinogrande:
      return ScoreWinogrande(session, tasks.winogrande, options, on_task);
    case TaskKind::kMultipleChoice:
      return ScoreMultipleChoice(session, tasks.multiple_choice, options, on_task);
  }
  return MakeError("unknown task kind");
}

}  // namespace quantlab
