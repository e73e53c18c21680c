// Step 3b of the lab: every task of every task set scored by every format of a pass, while the pass has
// it loaded. One row per task, committed as soon as the task is scored, so that a killed run resumes
// with the tasks it had not scored yet.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "quantlab/lab/loaded_models.h"
#include "quantlab/util/check.h"
#include "quantlab/util/progress.h"

namespace quantlab::lab::internal {
namespace {

// The set's task at `position` of its selection, alone (the scorers take a list).
SelectedTasks OneTask(const SelectedTasks& all, size_t position) {
  SelectedTasks one;
  one.kind = all.kind;
  one.n_in_file = all.n_in_file;
  switch (all.kind) {
    case TaskKind::kHellaswag:
      one.hellaswag.push_back(all.hellaswag.at(position));
      break;
    case TaskKind::kWinogrande:
      one.winogrande.push_back(all.winogrande.at(position));
      break;
    case TaskKind::kMultipleChoice:
      one.multiple_choice.push_back(all.multiple_choice.at(position));
      break;
  }
  return one;
}

}  // namespace

Status TaskStep(RunContext& ctx, LoadedModels& models, const std::vector<const PlannedFormat*>& formats) {
  const LabPlan& plan = ctx.plan;
  if (plan.task_sets.empty()) return Ok();
  struct Todo {
    const PlannedFormat* format;
    const PlannedTaskSet* set;
    size_t position;  // in the set's selection
  };
  std::vector<Todo> todo;
  for (const PlannedTaskSet& t : plan.task_sets) {
    QL_CHECK(t.tasks.size() == t.selected.size());
    for (const PlannedFormat* f : formats) {
      QL_ASSIGN_OR_RETURN(const std::set<int64_t> done, ctx.store.Items(plan.TaskKey(*f, t)));
      for (size_t i = 0; i < t.selected.size(); ++i) {
        if (!done.count(static_cast<int64_t>(t.selected[i]))) todo.push_back({f, &t, i});
      }
    }
  }
  if (ctx.log) {
    std::vector<std::string> sets;
    for (const PlannedTaskSet& t : plan.task_sets)
      sets.push_back(fmt::format("{} ({} of {})", t.name(), t.selected.size(), t.n_in_file));
    ctx.log(fmt::format("[3/5] tasks: {} x {} formats; {} to score", fmt::join(sets, ", "), formats.size(),
                        todo.size()));
  }
  if (todo.empty()) return Ok();
  ProgressBar bar("tasks", todo.size(), "tasks", ctx.progress_out);
  const TaskOptions options{.n_ctx = plan.n_ctx};
  for (const Todo& t : todo) {
    if (!ctx.budget.Spend()) return ctx.budget.StopError();
    QL_ASSIGN_OR_RETURN(Session * s, models.SessionFor(*t.format));
    QL_ASSIGN_OR_RETURN_CTX(const std::vector<TaskOutcome> outcomes,
                            ScoreTasks(*s, OneTask(t.set->tasks, t.position), options), "{}: {} with {}",
                            t.set->path, t.set->name(), t.format->name);
    QL_CHECK(outcomes.size() == 1);
    const TaskOutcome& o = outcomes.front();
    const TaskRow row{.chosen = o.chosen, .gold = o.gold, .correct = o.correct, .scores = o.scores};
    QL_RETURN_IF_ERROR(
        PutRow(ctx.store, plan.TaskKey(*t.format, *t.set), static_cast<int64_t>(o.index), row));
    ++ctx.measured;
    bar.Add();
  }
  bar.Finish();
  return Ok();
}

}  // namespace quantlab::lab::internal
