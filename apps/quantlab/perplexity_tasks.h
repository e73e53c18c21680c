// `quantlab perplexity --hellaswag/--winogrande/--multiple-choice FILE`: task accuracy, printed as
// llama-perplexity prints it (one running-accuracy line per task, then its final lines), or as JSON.
#pragma once

#include <string>

#include "quantlab/eval/tasks.h"
#include "quantlab/util/result.h"

namespace quantlab::cli {

struct TaskScoreArgs {
  std::string model;
  TaskKind kind = TaskKind::kHellaswag;
  std::string file;
  size_t n_tasks = 0;  // as asked (--hellaswag-tasks etc.)
  int n_ctx = 512;
  int n_batch = 512;
  int threads = 0;
  bool json = false;
};

Status RunTaskScore(const TaskScoreArgs& args);

}  // namespace quantlab::cli
