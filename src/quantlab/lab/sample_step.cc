// Step 3 of the lab: a sampled and a greedy continuation of every prompt by every format of a pass.
#include <chrono>

#include <fmt/format.h>

#include "quantlab/eval/generate.h"
#include "quantlab/lab/loaded_models.h"
#include "quantlab/util/format.h"
#include "quantlab/util/progress.h"

namespace quantlab::lab::internal {
namespace {

// Chunk-equivalents of work per sample (a sampled and a greedy run of n_predict tokens), for the ETA: a
// decoded token costs about 6 tokens of a chunk evaluation on the demo model (one token per forward pass,
// against a batch of n_ctx); SampleStep revises the estimate after the first sample.
double SampleCost(const LabPlan& plan) { return 6.0 * 2 * plan.sample.n_predict / std::max(1, plan.n_ctx); }

}  // namespace

Status SampleStep(RunContext& ctx, LoadedModels& models, const std::vector<const PlannedFormat*>& formats) {
  const LabPlan& plan = ctx.plan;
  struct Todo {
    const PlannedFormat* format;
    int prompt;
  };
  std::vector<Todo> todo;
  for (size_t p = 0; p < plan.prompts.size(); ++p) {
    for (const PlannedFormat* f : formats) {
      QL_ASSIGN_OR_RETURN(auto row,
                          GetRow<SampleRow>(ctx.store, plan.SampleKey(*f, p), static_cast<int64_t>(p)));
      if (!row) todo.push_back({f, static_cast<int>(p)});
    }
  }
  ctx.eta.remaining_chunk_equivalents = todo.size() * SampleCost(plan);
  if (ctx.log) {
    ctx.log(fmt::format(
        "[3/5] generation: {} prompts x {} formats, {} tokens each, sampled ({}) and greedy; {} to "
        "generate; {}",
        plan.prompts.size(), formats.size(), plan.sample.n_predict, plan.sampling_text, todo.size(),
        ctx.eta.Text()));
  }
  if (todo.empty()) return Ok();
  ProgressBar bar("samples", todo.size(), "samples", ctx.progress_out);
  size_t done = 0;
  for (const auto& t : todo) {
    if (!ctx.budget.Spend()) return ctx.budget.StopError();
    const auto t0 = std::chrono::steady_clock::now();
    QL_ASSIGN_OR_RETURN(Session * s, models.SessionFor(*t.format));
    const std::string& prompt = plan.prompts[t.prompt];
    GenerateOptions sampled;
    sampled.n_predict = plan.sample.n_predict;
    sampled.sampling.temperature = plan.sample.temperature;
    sampled.sampling.top_p = plan.sample.top_p;
    sampled.sampling.top_k = plan.sample.top_k;
    sampled.sampling.seed = plan.sample.seed;
    QL_ASSIGN_OR_RETURN(GenerateResult a, Generate(*s, prompt, sampled));
    GenerateOptions greedy = sampled;
    greedy.sampling.temperature = 0;
    // Greedy runs to the full length (no stop at end-of-text) so continuations compare token by token.
    greedy.stop_at_eog = false;
    QL_ASSIGN_OR_RETURN(GenerateResult g, Generate(*s, prompt, greedy));
    const SampleRow row{.prompt = prompt,
                        .sampled_text = a.text,
                        .sampled_tokens = a.tokens,
                        .greedy_text = g.text,
                        .greedy_tokens = g.tokens,
                        .tg_tps = g.gen_tokens_per_second()};
    QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.SampleKey(*t.format, t.prompt), t.prompt, row));
    ++ctx.measured;
    ctx.eta.remaining_chunk_equivalents -= SampleCost(plan);
    bar.Add();
    // The header's estimate rests on a guessed cost of decoding relative to evaluating a chunk; the
    // first sample measures it. Say so when the guess was far off (the bar's own ETA follows anyway).
    if (++done == 1 && todo.size() > 1 && ctx.log) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double guessed = SampleCost(plan) * ctx.eta.seconds_per_chunk;
      if (guessed <= 0 || seconds > 1.25 * guessed || seconds < 0.8 * guessed) {
        ctx.log(fmt::format("[3/5] first sample took {}; revised ETA for this step ~{}",
                            HumanDuration(seconds),
                            HumanDuration(seconds * static_cast<double>(todo.size() - 1))));
      }
    }
  }
  bar.Finish();
  return Ok();
}

}  // namespace quantlab::lab::internal
