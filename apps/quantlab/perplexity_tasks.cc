#include "perplexity_tasks.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "quantlab/util/thread_pool.h"

namespace quantlab::cli {
namespace {

// The reference's running-accuracy line after each task.
void PrintTaskLine(TaskKind kind, const TaskOutcome& outcome, int done, int correct) {
  switch (kind) {
    case TaskKind::kHellaswag:
      fmt::print("{}\t{:.8f}\n", done, static_cast<double>(correct) / done * 100.0);
      break;
    case TaskKind::kWinogrande:
      fmt::print("{}\t{:.4f}\t{:10.6f}  {:10.6f}  {}  {}\n", done, 100.0 * correct / done, outcome.scores[0],
                 outcome.scores[1], outcome.chosen + 1, outcome.gold + 1);
      break;
    case TaskKind::kMultipleChoice:
      fmt::print("{}\t{:.8f}\n", done, 100. * correct / done);
      break;
  }
  std::fflush(stdout);
}

// The reference's final lines, with its float arithmetic and its conditions for printing them.
void PrintFinal(const TaskScoreArgs& args, const SelectedTasks& tasks,
                const std::vector<TaskOutcome>& outcomes) {
  const int n_done = static_cast<int>(outcomes.size());
  const int n_correct = static_cast<int>(
      std::count_if(outcomes.begin(), outcomes.end(), [](const TaskOutcome& o) { return o.correct; }));
  const float p = 1.f * static_cast<float>(n_correct) / static_cast<float>(n_done);
  fmt::print("\n");
  switch (args.kind) {
    case TaskKind::kHellaswag:
      fmt::print("HellaSwag acc_norm over {} tasks: {:.8f}\n", n_done,
                 static_cast<double>(n_correct) / n_done * 100.0);
      break;
    case TaskKind::kWinogrande: {
      if (n_done < 100) break;
      const float sigma = 100.f * std::sqrt(p * (1 - p) / static_cast<float>(n_done - 1));
      fmt::print("Final Winogrande score({} tasks): {:.4f} +/- {:.4f}\n", n_done,
                 static_cast<double>(100 * p), static_cast<double>(sigma));
      break;
    }
    case TaskKind::kMultipleChoice: {
      const bool drawn = args.n_tasks != 0 && args.n_tasks < tasks.n_in_file;
      if (n_done < 100 && drawn) break;
      const float sigma = std::sqrt(p * (1 - p) / static_cast<float>(n_done - 1));
      fmt::print("Final result: {:.4f} +/- {:.4f}\n", static_cast<double>(100.f * p),
                 static_cast<double>(100.f * sigma));
      int n_answers = 0;
      for (const TaskOutcome& o : outcomes) n_answers += o.n_candidates;
      const float chance = 1.f * static_cast<float>(n_done) / static_cast<float>(n_answers);
      const float chance_sigma = std::sqrt(chance * (1 - chance) / static_cast<float>(n_done - 1));
      fmt::print("Random chance: {:.4f} +/- {:.4f}\n", static_cast<double>(100.f * chance),
                 static_cast<double>(100.f * chance_sigma));
      break;
    }
  }
}

nlohmann::json OutcomesJson(const TaskScoreArgs& args, const SelectedTasks& tasks,
                            const std::vector<TaskOutcome>& outcomes) {
  nlohmann::json per_task = nlohmann::json::array();
  int n_correct = 0;
  for (const TaskOutcome& o : outcomes) {
    n_correct += o.correct;
    per_task.push_back({{"task", o.index + 1},
                        {"chosen", o.chosen},
                        {"gold", o.gold},
                        {"correct", o.correct},
                        {"scores", o.scores}});
  }
  const double n = static_cast<double>(outcomes.size());
  const double p = n > 0 ? n_correct / n : 0.0;
  return {
      {"model", args.model},      {"kind", TaskKindName(args.kind)},
      {"file", args.file},        {"tasks_in_file", tasks.n_in_file},
      {"tasks", outcomes.size()}, {"correct", n_correct},
      {"accuracy", 100.0 * p},    {"accuracy_stderr", n > 1 ? 100.0 * std::sqrt(p * (1 - p) / (n - 1)) : 0.0},
      {"per_task", per_task}};
}

}  // namespace

Status RunTaskScore(const TaskScoreArgs& args) {
  QL_ASSIGN_OR_RETURN(const SelectedTasks tasks, LoadTasks(args.kind, args.file, args.n_tasks));
  QL_ASSIGN_OR_RETURN(const auto model, Model::Load(args.model));
  ThreadPool pool(args.threads);
  // Each candidate is evaluated as its own sequence, so the cache needs only the longest one; -c bounds a
  // task's total tokens as in the reference, which may exceed the model's training context.
  const int session_ctx = std::min(args.n_ctx, model->config().n_ctx_train);
  QL_ASSIGN_OR_RETURN(
      const auto session,
      Session::Create(*model, {.n_ctx = session_ctx, .n_batch = args.n_batch, .pool = &pool}));
  for (const std::string& note : tasks.notes) fmt::print(stderr, "note: {}\n", note);
  const bool in_order = args.kind != TaskKind::kHellaswag && tasks.size() == tasks.n_in_file;
  fmt::print(stderr, "{}: {} {} tasks in the file, scoring {} ({})\n", args.file, tasks.n_in_file,
             TaskKindName(args.kind), tasks.size(),
             in_order ? "in file order" : "drawn as llama-perplexity draws them");
  if (!args.json && args.kind != TaskKind::kWinogrande) fmt::print("\ntask\tacc_norm\n");
  QL_ASSIGN_OR_RETURN(const std::vector<TaskOutcome> outcomes,
                      ScoreTasks(*session, tasks, TaskOptions{.n_ctx = args.n_ctx},
                                 [&](const TaskOutcome& outcome, int done, int correct) {
                                   if (!args.json) PrintTaskLine(args.kind, outcome, done, correct);
                                 }));
  if (args.json) {
    fmt::print("{}\n", OutcomesJson(args, tasks, outcomes).dump(2));
  } else {
    PrintFinal(args, tasks, outcomes);
  }
  return Ok();
}

}  // namespace quantlab::cli
