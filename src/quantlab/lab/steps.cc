// The measuring steps. Each looks its rows up first and measures only what is missing; each finished
// measurement is committed before the next one starts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "quantlab/eval/bench.h"
#include "quantlab/eval/generate.h"
#include "quantlab/eval/kld.h"
#include "quantlab/eval/memory_model.h"
#include "quantlab/eval/perplexity.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/model/model.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/util/format.h"
#include "quantlab/util/progress.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::lab::internal {
namespace fs = std::filesystem;

namespace {

bool FileHasSize(const std::string& path, uint64_t bytes) {
  std::error_code ec;
  return fs::exists(path, ec) && fs::file_size(path, ec) == bytes && !ec;
}

// Models and sessions, loaded on first use and shared by the perplexity and sample steps.
class LoadedModels {
 public:
  LoadedModels(const LabPlan& plan, int threads) : plan_(plan), pool_(threads) {}
  Result<Session*> SessionFor(const PlannedFormat& f) {
    auto it = sessions_.find(f.name);
    if (it != sessions_.end()) return it->second.get();
    QL_ASSIGN_OR_RETURN(auto model, Model::Load(f.path));
    SessionOptions options;
    options.n_ctx =
        std::min(model->config().n_ctx_train, std::max(plan_.n_ctx, plan_.sample.n_predict + 256));
    options.pool = &pool_;
    QL_ASSIGN_OR_RETURN(auto session, Session::Create(*model, options));
    Session* s = session.get();
    models_[f.name] = std::move(model);
    sessions_[f.name] = std::move(session);
    return s;
  }

 private:
  const LabPlan& plan_;
  ThreadPool pool_;
  std::map<std::string, std::unique_ptr<Model>> models_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
};

const PlannedFormat& BaseOf(const LabPlan& plan) {
  for (const auto& f : plan.formats) {
    if (f.is_base) return f;
  }
  return plan.formats.front();
}

// Chunk-equivalents of work per sample (a sampled and a greedy run of n_predict tokens), for the ETA: a
// decoded token costs about 6 tokens of a chunk evaluation on the demo model (one token per forward pass,
// against a batch of n_ctx); SampleStep revises the estimate after the first sample.
double SampleCost(const LabPlan& plan) { return 6.0 * 2 * plan.sample.n_predict / std::max(1, plan.n_ctx); }

}  // namespace

std::string EtaModel::Text() const {
  if (seconds_per_chunk <= 0) return "ETA: after the first chunk";
  return "ETA ~" + HumanDuration(seconds_per_chunk * remaining_chunk_equivalents);
}

Status QuantizeStep(RunContext& ctx) {
  const LabPlan& plan = ctx.plan;
  QL_ASSIGN_OR_RETURN(auto base_model, Model::Load(plan.base_path));
  const uint64_t n_params = base_model->n_params();
  const size_t n_tensors = base_model->file().tensors().size();
  std::vector<const PlannedFormat*> todo;
  for (const auto& f : plan.formats) {
    QL_ASSIGN_OR_RETURN(auto row, GetRow<QuantizeRow>(ctx.store, plan.QuantizeKey(f), 0));
    if (f.is_base) {
      if (!row) {
        const QuantizeRow base{.file = f.path,
                               .file_bytes = fs::file_size(f.path),
                               .n_params = n_params,
                               .bits_per_weight = 8.0 * double(base_model->weight_bytes()) / double(n_params),
                               .seconds = 0.0};
        QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.QuantizeKey(f), 0, base));
      }
      continue;
    }
    if (row && FileHasSize(f.path, row->file_bytes)) continue;  // reuse
    todo.push_back(&f);
  }
  base_model.reset();
  if (ctx.log) {
    ctx.log(fmt::format("[1/5] quantize: {} of {} formats to make ({} reused)", todo.size(),
                        plan.formats.size() - 1, plan.formats.size() - 1 - todo.size()));
  }
  if (todo.empty()) return Ok();
  ProgressBar bar("quantize", todo.size() * n_tensors, "tensors", ctx.progress_out);
  for (const PlannedFormat* f : todo) {
    QuantizeModelOptions options;
    options.recipe = f->recipe;
    options.threads = ctx.config.threads;
    options.measure_distortion = false;
    // The test hook stops the quantizer between tensors, the way a kill would.
    bool stopped = false;
    options.on_tensor = [&](const TensorReport&, size_t, size_t) {
      bar.Add();
      stopped = !ctx.budget.Spend();
      return !stopped;
    };
    Result<QuantizeReport> quantized = QuantizeModel(plan.base_path, f->path, options);
    if (stopped) return ctx.budget.StopError();
    QL_ASSIGN_OR_RETURN_CTX(const QuantizeReport report, std::move(quantized), "quantizing to {}", f->name);
    const QuantizeRow made{.file = f->path,
                           .file_bytes = report.output_file_bytes,
                           .n_params = static_cast<uint64_t>(report.n_elements),
                           .bits_per_weight = report.bits_per_weight(),
                           .seconds = report.seconds};
    QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.QuantizeKey(*f), 0, made));
    ++ctx.measured;
  }
  bar.Finish();
  return Ok();
}

namespace {

Status EvalStep(RunContext& ctx, LoadedModels& models) {
  const LabPlan& plan = ctx.plan;
  const PlannedFormat& base = BaseOf(plan);
  QL_ASSIGN_OR_RETURN(Session * base_session, models.SessionFor(base));
  int data_index = 0;
  for (const auto& data : plan.data) {
    ++data_index;
    QL_ASSIGN_OR_RETURN(auto tokens, TokenizeForPerplexity(base_session->model().tokenizer(), data.text,
                                                           plan.n_ctx, plan.chunks));
    // Which (format, chunk) measurements are complete already.
    std::map<std::string, std::set<int64_t>> have;
    for (const auto& f : plan.formats) {
      QL_ASSIGN_OR_RETURN(have[f.name], CompleteChunks(ctx.store, plan, f, data));
    }
    std::vector<int> todo;
    int missing_pairs = 0;
    for (int i = 0; i < tokens.n_chunks; ++i) {
      int missing = 0;
      for (const auto& f : plan.formats) missing += have[f.name].count(i) ? 0 : 1;
      if (missing) todo.push_back(i);
      missing_pairs += missing;
    }
    ctx.eta.remaining_chunk_equivalents += missing_pairs;
    if (ctx.log) {
      ctx.log(fmt::format(
          "[2/5] perplexity + KLD on '{}' ({}/{}): {} chunks of {} tokens x {} formats; {} chunks "
          "to evaluate, {} done before; {}",
          data.name, data_index, plan.data.size(), tokens.n_chunks, plan.n_ctx, plan.formats.size(),
          todo.size(), tokens.n_chunks - todo.size(), ctx.eta.Text()));
    }
    ProgressBar bar("ppl+KLD " + data.name, tokens.n_chunks, "chunks", ctx.progress_out);
    bar.SetAlreadyDone(tokens.n_chunks - todo.size());
    for (int i : todo) {
      if (!ctx.budget.Spend()) return ctx.budget.StopError();
      const auto t0 = std::chrono::steady_clock::now();
      QL_ASSIGN_OR_RETURN(BaseChunkLogProbs base_chunk, EvaluateBaseChunk(*base_session, tokens, i));
      std::vector<std::pair<const PlannedFormat*, KldChunk>> results;
      for (const auto& f : plan.formats) {
        if (f.is_base || have[f.name].count(i)) continue;
        QL_ASSIGN_OR_RETURN(Session * s, models.SessionFor(f));
        QL_ASSIGN_OR_RETURN(KldChunk chunk, EvaluateKldChunk(*s, tokens, base_chunk));
        results.emplace_back(&f, std::move(chunk));
      }
      // One transaction per chunk: a kill loses at most this chunk.
      QL_ASSIGN_OR_RETURN(auto tx, Transaction::Start(ctx.store));
      int pairs = 0;
      if (!have[base.name].count(i)) {
        const NllStats& b = base_chunk.base_nll;
        QL_RETURN_IF_ERROR(
            PutRow(ctx.store, plan.PplKey(base, data), i, PplChunkRow{b.count, b.sum, b.sum_sq}));
        ++pairs;
      }
      for (auto& [f, chunk] : results) {
        const KldSums& s = chunk.sums;
        QL_RETURN_IF_ERROR(
            PutRow(ctx.store, plan.PplKey(*f, data), i, PplChunkRow{s.count, s.sum_nll, s.sum_nll2}));
        const KldChunkRow kld{s, std::move(chunk.kld_values), std::move(chunk.p_diff_values)};
        QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.KldKey(*f, data), i, kld));
        ++pairs;
      }
      QL_RETURN_IF_ERROR(tx.Commit());
      ctx.measured += pairs;
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ctx.eta.seconds_per_chunk = seconds / std::max(1, pairs);
      ctx.eta.remaining_chunk_equivalents -= pairs;
      bar.Add();
    }
    bar.Finish();
  }
  return Ok();
}

Status SampleStep(RunContext& ctx, LoadedModels& models) {
  const LabPlan& plan = ctx.plan;
  struct Todo {
    const PlannedFormat* format;
    int prompt;
  };
  std::vector<Todo> todo;
  for (size_t p = 0; p < plan.prompts.size(); ++p) {
    for (const auto& f : plan.formats) {
      QL_ASSIGN_OR_RETURN(auto row,
                          GetRow<SampleRow>(ctx.store, plan.SampleKey(f, p), static_cast<int64_t>(p)));
      if (!row) todo.push_back({&f, static_cast<int>(p)});
    }
  }
  ctx.eta.remaining_chunk_equivalents = todo.size() * SampleCost(plan);
  if (ctx.log) {
    ctx.log(fmt::format(
        "[3/5] generation: {} prompts x {} formats, {} tokens each, sampled ({}) and greedy; {} to "
        "generate; {}",
        plan.prompts.size(), plan.formats.size(), plan.sample.n_predict, plan.sampling_text, todo.size(),
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

// Resets the kernel's peak-RSS mark for this process, so that each bench reports its own peak.
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

}  // namespace

Status EvalAndSampleSteps(RunContext& ctx) {
  LoadedModels models(ctx.plan, ctx.config.threads);
  QL_RETURN_IF_ERROR(EvalStep(ctx, models));
  return SampleStep(ctx, models);
}

Status SpeedStep(RunContext& ctx) {
  const LabPlan& plan = ctx.plan;
  std::vector<const PlannedFormat*> todo;
  for (const auto& f : plan.formats) {
    QL_ASSIGN_OR_RETURN(auto row, GetRow<SpeedRow>(ctx.store, plan.SpeedKey(f), 0));
    if (!row && !ctx.config.skip_speed) todo.push_back(&f);
    // The RAM prediction is cheap; it is stored so that report/score need no model files.
    QL_ASSIGN_OR_RETURN(auto ram_row, GetRow<RamRow>(ctx.store, plan.RamKey(f), 0));
    if (ram_row) continue;
    MemoryModelOptions mo;
    mo.n_ctx = plan.ram.n_ctx;
    mo.n_threads = plan.ram.threads;
    QL_ASSIGN_OR_RETURN(MemoryEstimate m, EstimateMemoryForFile(f.path, mo));
    const RamRow ram{.total = m.total(),
                     .weights = m.weights_bytes,
                     .kv_cache = m.kv_cache_bytes,
                     .scratch = m.scratch_bytes,
                     .runtime = m.runtime_bytes};
    QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.RamKey(f), 0, ram));
  }
  const int n_prompt = plan.speed.n_prompt, n_gen = plan.speed.n_gen;
  const int reps = plan.speed.repetitions;
  ctx.eta.remaining_chunk_equivalents =
      todo.size() * (reps + 1) * (n_prompt + 3.0 * n_gen) / std::max(1, plan.n_ctx);
  if (ctx.log) {
    ctx.log(
        fmt::format("[4/5] speed: pp{} and tg{} x {} repetitions per format, {} threads; {} of {} formats to "
                    "measure; {}",
                    n_prompt, n_gen, reps, plan.speed.threads, todo.size(), plan.formats.size(),
                    ctx.config.skip_speed ? "skipped (--skip-speed)" : ctx.eta.Text()));
  }
  if (todo.empty()) return Ok();
  ProgressBar bar("speed", todo.size(), "formats", ctx.progress_out);
  for (const PlannedFormat* f : todo) {
    if (!ctx.budget.Spend()) return ctx.budget.StopError();
    BenchOptions options;
    options.n_prompt = n_prompt;
    options.n_gen = n_gen;
    options.n_batch = std::max(1, n_prompt);
    options.n_threads = plan.speed.threads;
    options.repetitions = reps;
    ResetPeakRss();
    QL_ASSIGN_OR_RETURN(BenchResult b, RunBench(f->path, options));
    const SpeedRow row{
        .pp_tps = b.pp.avg_ts,
        .pp_stddev = b.pp.stddev_ts,
        .tg_tps = b.tg.avg_ts,
        .tg_stddev = b.tg.stddev_ts,
        .repetitions = static_cast<int>(std::max(b.pp.samples_ts.size(), b.tg.samples_ts.size())),
        .peak_rss_bytes = b.peak_rss_bytes,
        .threads = b.n_threads,
        .isa = b.isa};
    QL_RETURN_IF_ERROR(PutRow(ctx.store, plan.SpeedKey(*f), 0, row));
    ++ctx.measured;
    bar.Add();
  }
  bar.Finish();
  return Ok();
}

}  // namespace quantlab::lab::internal
