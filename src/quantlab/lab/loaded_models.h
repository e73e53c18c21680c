// The models and sessions of one evaluation pass (eval_passes.cc), loaded on first use and shared by the
// perplexity/KLD chunks and the samples of the pass; destroying it unmaps them.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "quantlab/lab/lab_internal.h"
#include "quantlab/model/model.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::lab::internal {

// Loads a format's model and session on first use.
class LoadedModels {
 public:
  LoadedModels(const LabPlan& plan, ThreadPool& pool) : plan_(plan), pool_(pool) {}
  Result<Session*> SessionFor(const PlannedFormat& f) {
    auto it = sessions_.find(f.name);
    if (it != sessions_.end()) return it->second.get();
    QL_ASSIGN_OR_RETURN(auto model, Model::Load(f.path));
    SessionOptions options;
    options.n_ctx = SessionContext(plan_, model->config().n_ctx_train);
    options.pool = &pool_;
    QL_ASSIGN_OR_RETURN(auto session, Session::Create(*model, options));
    Session* s = session.get();
    models_[f.name] = std::move(model);
    sessions_[f.name] = std::move(session);
    return s;
  }
  // Room for a chunk and for a sample's prompt and continuation.
  static int SessionContext(const LabPlan& plan, int n_ctx_train) {
    return std::min(n_ctx_train, std::max(plan.n_ctx, plan.sample.n_predict + 256));
  }

 private:
  const LabPlan& plan_;
  ThreadPool& pool_;
  std::map<std::string, std::unique_ptr<Model>> models_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
};

// Generation samples (step 3) of `formats`, with the pass's models: a sampled and a greedy continuation of
// every prompt, each stored as soon as it is made.
Status SampleStep(RunContext& ctx, LoadedModels& models, const std::vector<const PlannedFormat*>& formats);

// Task accuracy (task_step.cc) of `formats`, with the pass's models: every selected task of every task
// set, each stored as one row as soon as it is scored.
Status TaskStep(RunContext& ctx, LoadedModels& models, const std::vector<const PlannedFormat*>& formats);

}  // namespace quantlab::lab::internal
