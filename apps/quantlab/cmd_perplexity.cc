// `quantlab perplexity -m MODEL -f TEXT [-c N] [-b N] [--chunks N] [-t N] [--json] [--kl-base BASE.gguf]`:
// perplexity with llama-perplexity's method; with --kl-base, also the KL divergence of MODEL against BASE
// and the statistics llama-perplexity --kl-divergence prints. With --hellaswag, --winogrande or
// --multiple-choice FILE: that task file's accuracy instead (perplexity_tasks.h).
#include <fmt/core.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "command_registry.h"
#include "perplexity_tasks.h"
#include "quantlab/eval/kld.h"
#include "quantlab/eval/perplexity.h"
#include "quantlab/util/progress.h"
#include "quantlab/util/text_file.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::cli {
namespace {

struct PerplexityArgs {
  std::string model;
  std::string text_file;
  std::string kl_base;
  int n_ctx = 512;
  int n_batch = 512;
  int chunks = -1;
  int threads = 0;
  bool json = false;
  // Task modes (llama-perplexity's defaults for the task counts).
  std::string hellaswag;
  size_t hellaswag_tasks = 400;
  std::string winogrande;
  size_t winogrande_tasks = 0;
  std::string multiple_choice;
  size_t multiple_choice_tasks = 0;
};

// The task mode asked for, if any. Errors: more than one task file, or a task file with -f/--kl-base.
Result<std::optional<TaskScoreArgs>> TaskMode(const PerplexityArgs& args) {
  std::vector<TaskScoreArgs> modes;
  const auto add = [&](const std::string& file, TaskKind kind, size_t n_tasks) {
    if (file.empty()) return;
    modes.push_back(TaskScoreArgs{.model = args.model,
                                  .kind = kind,
                                  .file = file,
                                  .n_tasks = n_tasks,
                                  .n_ctx = args.n_ctx,
                                  .n_batch = args.n_batch,
                                  .threads = args.threads,
                                  .json = args.json});
  };
  add(args.hellaswag, TaskKind::kHellaswag, args.hellaswag_tasks);
  add(args.winogrande, TaskKind::kWinogrande, args.winogrande_tasks);
  add(args.multiple_choice, TaskKind::kMultipleChoice, args.multiple_choice_tasks);
  if (modes.empty()) {
    if (args.text_file.empty())
      return UsageError(
          "give a text file (-f) or a task file (--hellaswag, --winogrande, --multiple-choice)");
    return std::optional<TaskScoreArgs>();
  }
  if (modes.size() > 1)
    return UsageError("give one task file at a time (--hellaswag, --winogrande, --multiple-choice)");
  if (!args.text_file.empty() || !args.kl_base.empty()) {
    return UsageError("a task file (--{}) cannot be combined with -f or --kl-base",
                      TaskKindName(modes[0].kind));
  }
  if (args.n_ctx < 1) return UsageError("-c must be at least 1 (got {})", args.n_ctx);
  return std::optional<TaskScoreArgs>(modes[0]);
}

nlohmann::json EstimateJson(const Estimate& e) { return {{"value", e.value}, {"error", e.error}}; }

void PrintKldStats(const KldStats& s) {
  fmt::print("====== Perplexity statistics ======\n");
  fmt::print("Mean PPL(Q)                   : {:10.6f} ± {:10.6f}\n", s.ppl.value, s.ppl.error);
  fmt::print("Mean PPL(base)                : {:10.6f} ± {:10.6f}\n", s.ppl_base.value, s.ppl_base.error);
  fmt::print("Cor(ln(PPL(Q)), ln(PPL(base))): {:6.2f}%\n", 100.0 * s.log_ppl_correlation);
  fmt::print("Mean ln(PPL(Q)/PPL(base))     : {:10.6f} ± {:10.6f}\n", s.log_ppl_ratio.value,
             s.log_ppl_ratio.error);
  fmt::print("Mean PPL(Q)/PPL(base)         : {:10.6f} ± {:10.6f}\n", s.ppl_ratio.value, s.ppl_ratio.error);
  fmt::print("Mean PPL(Q)-PPL(base)         : {:10.6f} ± {:10.6f}\n\n", s.ppl_diff.value, s.ppl_diff.error);
  fmt::print("====== KL divergence statistics ======\n");
  fmt::print("Mean    KLD: {:10.6f} ± {:10.6f}\n", s.kld.value, s.kld.error);
  fmt::print("Maximum KLD: {:10.6f}\n99.9%   KLD: {:10.6f}\n99.0%   KLD: {:10.6f}\nMedian  KLD: {:10.6f}\n",
             s.kld_max, s.kld_p99_9, s.kld_p99, s.kld_median);
  fmt::print("10.0%   KLD: {:10.6f}\n 5.0%   KLD: {:10.6f}\n 1.0%   KLD: {:10.6f}\nMinimum KLD: {:10.6f}\n\n",
             s.kld_p10, s.kld_p5, s.kld_p1, s.kld_min);
  fmt::print("====== Token probability statistics ======\n");
  fmt::print("Mean    Δp: {:6.3f} ± {:5.3f} %\n", 100 * s.p_diff.value, 100 * s.p_diff.error);
  const std::pair<const char*, float> dp[] = {
      {"Maximum", s.p_diff_max},    {"99.9%  ", s.p_diff_p99_9}, {"99.0%  ", s.p_diff_p99},
      {"95.0%  ", s.p_diff_p95},    {"90.0%  ", s.p_diff_p90},   {"75.0%  ", s.p_diff_p75},
      {"Median ", s.p_diff_median}, {"25.0%  ", s.p_diff_p25},   {"10.0%  ", s.p_diff_p10},
      {" 5.0%  ", s.p_diff_p5},     {" 1.0%  ", s.p_diff_p1},    {" 0.1%  ", s.p_diff_p0_1},
      {"Minimum", s.p_diff_min}};
  for (const auto& [label, value] : dp) fmt::print("{} Δp: {:6.3f}%\n", label, 100.0 * value);
  fmt::print("RMS Δp    : {:6.3f} ± {:5.3f} %\n", 100 * s.p_diff_rms.value, 100 * s.p_diff_rms.error);
  fmt::print("Same top p: {:6.3f} ± {:5.3f} %\n", 100 * s.same_top.value, 100 * s.same_top.error);
}

nlohmann::json KldJson(const KldStats& s) {
  return {{"count", s.count},
          {"ppl", EstimateJson(s.ppl)},
          {"ppl_base", EstimateJson(s.ppl_base)},
          {"log_ppl_correlation", s.log_ppl_correlation},
          {"log_ppl_ratio", EstimateJson(s.log_ppl_ratio)},
          {"ppl_ratio", EstimateJson(s.ppl_ratio)},
          {"ppl_diff", EstimateJson(s.ppl_diff)},
          {"kld", EstimateJson(s.kld)},
          {"kld_percentiles",
           {{"max", s.kld_max},
            {"99.9", s.kld_p99_9},
            {"99", s.kld_p99},
            {"50", s.kld_median},
            {"10", s.kld_p10},
            {"5", s.kld_p5},
            {"1", s.kld_p1},
            {"min", s.kld_min}}},
          {"p_diff", EstimateJson(s.p_diff)},
          {"p_diff_percentiles",
           {{"max", s.p_diff_max},
            {"99.9", s.p_diff_p99_9},
            {"99", s.p_diff_p99},
            {"95", s.p_diff_p95},
            {"90", s.p_diff_p90},
            {"75", s.p_diff_p75},
            {"50", s.p_diff_median},
            {"25", s.p_diff_p25},
            {"10", s.p_diff_p10},
            {"5", s.p_diff_p5},
            {"1", s.p_diff_p1},
            {"0.1", s.p_diff_p0_1},
            {"min", s.p_diff_min}}},
          {"p_diff_rms", EstimateJson(s.p_diff_rms)},
          {"same_top", EstimateJson(s.same_top)}};
}

Status RunPerplexity(const PerplexityArgs& args) {
  QL_ASSIGN_OR_RETURN(const std::optional<TaskScoreArgs> task_mode, TaskMode(args));
  if (task_mode) return RunTaskScore(*task_mode);
  QL_ASSIGN_OR_RETURN_CTX(const std::string text, ReadText(args.text_file), "text file");
  QL_ASSIGN_OR_RETURN(const auto model, Model::Load(args.model));
  ThreadPool pool(args.threads);
  const SessionOptions session_options{.n_ctx = args.n_ctx, .n_batch = args.n_batch, .pool = &pool};
  if (args.n_ctx > model->config().n_ctx_train) {
    return MakeError("context size {} is larger than the model's training context {}", args.n_ctx,
                     model->config().n_ctx_train);
  }
  QL_ASSIGN_OR_RETURN(const auto session, Session::Create(*model, session_options));
  QL_ASSIGN_OR_RETURN(const PerplexityTokens tokens,
                      TokenizeForPerplexity(model->tokenizer(), text, args.n_ctx, args.chunks));
  if (!args.json) {
    fmt::print(stderr, "{}: {} tokens, {} chunks of {}, {} threads\n", args.model, tokens.tokens.size(),
               tokens.n_chunks, args.n_ctx, pool.size());
  }

  if (args.kl_base.empty()) {
    ProgressBar progress("perplexity", tokens.n_chunks, "chunks");
    auto result =
        ComputePerplexity(*session, tokens, PerplexityOptions{.n_ctx = args.n_ctx, .max_chunks = args.chunks},
                          [&](const PerplexityChunk& chunk, const NllStats& running, int done, int) {
                            if (!args.json) fmt::print("[{}]{:.4f},", chunk.index + 1, running.Ppl());
                            std::fflush(stdout);
                            progress.Update(done);
                            return true;
                          });
    progress.Finish();
    if (!result.ok()) return result.error();
    if (args.json) {
      nlohmann::json j = {{"model", args.model},
                          {"ppl", result->ppl},
                          {"ppl_stderr", result->ppl_stderr},
                          {"n_ctx", result->n_ctx},
                          {"n_chunks", result->n_chunks},
                          {"n_tokens", result->n_tokens},
                          {"n_scored", result->stats.count},
                          {"mean_nll", result->stats.MeanNll()},
                          {"seconds", result->seconds},
                          {"threads", pool.size()}};
      fmt::print("{}\n", j.dump(2));
    } else {
      fmt::print("\nFinal estimate: PPL = {:.4f} +/- {:.5f}\n", result->ppl, result->ppl_stderr);
    }
    return Ok();
  }

  QL_ASSIGN_OR_RETURN(const auto base_model, Model::Load(args.kl_base));
  QL_ASSIGN_OR_RETURN(const auto base_session, Session::Create(*base_model, session_options));
  Session* candidates[] = {session.get()};
  ProgressBar progress("kl-divergence", tokens.n_chunks, "chunks");
  auto result =
      ComputeKld(*base_session, candidates, text, KldOptions{.n_ctx = args.n_ctx, .max_chunks = args.chunks},
                 [&](int, const NllStats&, std::span<const KldChunk>, int done, int) {
                   progress.Update(done);
                   return true;
                 });
  progress.Finish();
  if (!result.ok()) return result.error();
  const KldStats& stats = (*result)[0].stats;
  if (args.json) {
    nlohmann::json j = KldJson(stats);
    j["model"] = args.model;
    j["base"] = args.kl_base;
    j["ppl"] = stats.ppl.value;
    j["ppl_stderr"] = stats.ppl.error;
    j["n_ctx"] = args.n_ctx;
    j["n_chunks"] = (*result)[0].accumulator.n_chunks();
    j["n_tokens"] = tokens.tokens.size();
    fmt::print("{}\n", j.dump(2));
  } else {
    PrintKldStats(stats);
  }
  return Ok();
}

CommandRegistration registration{
    "perplexity",
    "Perplexity of a model on a text (llama-perplexity's method), optionally KL divergence vs a base",
    [](CLI::App& app) {
      auto args = std::make_shared<PerplexityArgs>();
      app.add_option("-m,--model", args->model, "Model GGUF file")->required();
      app.add_option("-f,--file", args->text_file, "Text file (not with a task file)");
      app.add_option("-c,--ctx-size", args->n_ctx, "Tokens per chunk")->capture_default_str();
      app.add_option("-b,--batch-size", args->n_batch, "Tokens per forward pass")->capture_default_str();
      app.add_option("--chunks", args->chunks, "Evaluate at most this many chunks (-1: all)")
          ->capture_default_str();
      app.add_option("-t,--threads", args->threads, "Threads (0: all cores)")->capture_default_str();
      app.add_flag("--json", args->json, "Print the result as one JSON object");
      app.add_option("--kl-base", args->kl_base,
                     "Base model: also compute KL divergence of MODEL against it");
      app.add_option(
          "--hellaswag", args->hellaswag,
          "HellaSwag task file (llama-perplexity's 6-line text format): acc_norm instead of perplexity");
      app.add_option("--hellaswag-tasks", args->hellaswag_tasks, "HellaSwag tasks to draw")
          ->capture_default_str();
      app.add_option("--winogrande", args->winogrande,
                     "Winogrande task file (CSV): accuracy instead of perplexity");
      app.add_option("--winogrande-tasks", args->winogrande_tasks,
                     "Winogrande tasks to draw (0: all, in order)")
          ->capture_default_str();
      app.add_option(
          "--multiple-choice", args->multiple_choice,
          "Multiple-choice task file (llama-perplexity's binary format): accuracy instead of perplexity");
      app.add_option("--multiple-choice-tasks", args->multiple_choice_tasks,
                     "Multiple-choice tasks to draw (0: all, in order)")
          ->capture_default_str();
      return [args] { return RunPerplexity(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
