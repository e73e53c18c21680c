// The quantize and speed steps (eval_passes.cc has perplexity, KLD and samples). Each looks its rows up first
// and measures only what is missing; each finished measurement is committed before the next one starts.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "quantlab/eval/bench.h"
#include "quantlab/eval/memory_model.h"
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
    // With --reference the base is not among the formats: every one of them is made.
    const size_t to_make = plan.formats.size() - (plan.reference.empty() ? 1 : 0);
    ctx.log(fmt::format("[1/5] quantize: {} of {} formats to make ({} reused)", todo.size(), to_make,
                        to_make - todo.size()));
  }
  if (todo.empty()) return Ok();
  // The lab's importance matrix, read once for every format that uses it (ResolveImatrix checked it).
  ImportanceMatrix imatrix;
  if (std::any_of(todo.begin(), todo.end(), [](const PlannedFormat* f) { return f->uses_imatrix; })) {
    QL_ASSIGN_OR_RETURN_CTX(imatrix, ReadImatrixFile(plan.imatrix.stored_path), "the lab's imatrix");
  }
  ProgressBar bar("quantize", todo.size() * n_tensors, "tensors", ctx.progress_out);
  for (const PlannedFormat* f : todo) {
    QuantizeModelOptions options;
    options.recipe = f->recipe;
    if (f->uses_imatrix) {
      options.imatrix = &imatrix;
      options.imatrix_path =
          plan.imatrix.source == "file" ? plan.imatrix.source_path : plan.imatrix.stored_path;
    }
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

// Resets the kernel's peak-RSS mark for this process, so that each bench reports its own peak.
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

}  // namespace

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
