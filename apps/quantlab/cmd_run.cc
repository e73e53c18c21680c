// `quantlab run`: the whole quantization lab in one resumable command (see lab/lab.h).
#include <fmt/core.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_registry.h"
#include "quantlab/lab/lab.h"
#include "quantlab/report/text_formats.h"
#include "quantlab/util/format.h"

namespace quantlab::cli {
namespace {

struct RunArgs {
  std::string base;
  std::string formats;
  std::vector<std::string> data;
  std::string prompts;
  std::string tasks;
  int64_t tasks_max = 0;
  std::string ram_budget;
  std::string mem_limit;
  std::string weights;
  int n_ctx = 0;
  int chunks = 0;
  int threads = 0;
  std::string out;
  std::string config;
  int n_predict = 0;
  int bench_reps = 0;
  bool skip_speed = false;
  bool full = false;
  std::string reference;
  std::string imatrix;
  std::string calibration;
  int calibration_chunks = -1;
  bool no_progress = false;
  int64_t stop_after = -1;
  int64_t cache_disk_free = -1;
  CLI::App* app = nullptr;
  bool Given(const char* name) const { return app->get_option(name)->count() > 0; }
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = std::min(s.find(',', start), s.size());
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void PrintTable(const analysis::Analysis& a, const char* id) {
  if (const auto* t = a.FindTable(id)) fmt::print("\n{}\n{}", t->title, report::TableToMarkdown(*t));
}

Status Run(const RunArgs& args) {
  lab::LabConfig config;
  if (!args.config.empty()) {
    if (auto s = lab::ApplyLabToml(args.config, config); !s.ok()) return UsageError("--config", s.error());
  }
  // Command-line values win over the lab file.
  if (!args.base.empty()) config.base_model = args.base;
  if (args.Given("--formats")) config.formats = SplitList(args.formats);
  if (args.Given("--data")) {
    config.data.clear();
    for (const auto& d : args.data) config.data.push_back(lab::ParseDataSet(d));
  }
  if (args.Given("--prompts")) {
    config.prompts.clear();
    config.prompts_file = args.prompts;
  }
  if (args.Given("--tasks")) {
    config.tasks.clear();
    config.no_tasks = args.tasks == "none";
    if (!config.no_tasks) {
      auto sets = lab::ParseTaskSets(args.tasks);
      if (!sets.ok()) return UsageError("--tasks", sets.error());
      config.tasks = *sets;
    }
  }
  if (args.Given("--tasks-max")) {
    if (args.tasks_max < 0) return UsageError("--tasks-max: must be 0 (every task) or more");
    config.tasks_max = static_cast<size_t>(args.tasks_max);
  }
  if (args.Given("--ram-budget")) {
    auto bytes = lab::ParseByteSize(args.ram_budget);
    if (!bytes.ok()) return UsageError("--ram-budget", bytes.error());
    config.ram_budget_bytes = *bytes;
  }
  if (args.Given("--reference")) config.reference = args.reference;
  if (auto s = lab::CheckReference(config); !s.ok()) return UsageError("--reference", s.error());
  if (args.Given("--imatrix")) {
    config.imatrix_file = args.imatrix;
    config.calibration_file.clear();
  }
  if (args.Given("--calibration")) {
    config.calibration_file = args.calibration;
    if (!args.Given("--imatrix")) config.imatrix_file.clear();
  }
  if (args.Given("--calibration-chunks")) config.calibration_chunks = args.calibration_chunks;
  if (auto s = lab::CheckImatrixChoice(config); !s.ok()) return UsageError("--formats/--imatrix", s.error());
  if (args.Given("--mem-limit")) {
    auto bytes = lab::ParseByteSize(args.mem_limit);
    if (!bytes.ok()) return UsageError("--mem-limit", bytes.error());
    if (*bytes == 0) return UsageError("--mem-limit: must be above 0");
    config.mem_limit_bytes = *bytes;
  }
  if (args.Given("--weights")) {
    auto w = lab::ParseWeights(args.weights, config.weights);
    if (!w.ok()) return UsageError("--weights", w.error());
    config.weights = *w;
  }
  if (args.Given("-c")) config.n_ctx = args.n_ctx;
  if (args.Given("--chunks")) config.chunks = args.chunks;
  if (args.Given("-t")) config.threads = args.threads;
  if (args.Given("--out")) config.out_dir = args.out;
  if (args.Given("--n-predict")) config.n_predict = args.n_predict;
  if (args.Given("--bench-reps")) config.bench_repetitions = args.bench_reps;
  if (args.skip_speed) config.skip_speed = true;
  if (args.full) config.full = true;
  if (args.no_progress) config.progress = false;
  config.stop_after_units = args.stop_after;
  config.cache_disk_free_bytes = args.cache_disk_free;

  auto log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  auto summary = lab::RunLab(config, log);
  if (!summary.ok()) {
    return MakeError("{}\n(finished measurements are kept in {}/{}; rerun the same command to resume)",
                     summary.error().message, config.out_dir, lab::kResultsFile);
  }
  const auto& a = summary->analysis;
  PrintTable(a, "size");
  PrintTable(a, "perplexity");
  PrintTable(a, "kld");
  PrintTable(a, "speed");
  PrintTable(a, "tasks");
  PrintTable(a, "decision");
  PrintTable(a, "score");
  fmt::print("\nRecommendation: {}\n{}\n", a.recommendation, a.reasoning);
  fmt::print("\n{} measurements made in this run, {} reused; {} in all. Lab time {}.\n", summary->measured,
             summary->rows_before, summary->rows_after, HumanDuration(summary->seconds));
  std::vector<std::string> steps;
  for (const auto& t : summary->step_times) {
    steps.push_back(
        fmt::format("{} {} (CPU {})", t.name, HumanDuration(t.wall_seconds), HumanDuration(t.cpu_seconds)));
  }
  fmt::print("Step times: {}.\n", fmt::join(steps, ", "));
  fmt::print("Report: {}/report.html, {}/report.md, {}/recommendation.pdf ({} files)\n", summary->out_dir,
             summary->out_dir, summary->out_dir, summary->report_files.size());
  return Ok();
}

CommandRegistration reg{
    "run", "Run the quantization lab: quantize, measure, analyse and report (resumable)", [](CLI::App& app) {
      auto args = std::make_shared<RunArgs>();
      args->app = &app;
      app.add_option("base", args->base, "Base model (GGUF, F16/BF16/F32); default: the built-in demo model");
      app.add_option("--formats", args->formats,
                     "Comma-separated formats (default: base type,Q8_0,Q6_K,Q5_K_M,Q4_K_M,Q4_K_S,Q3_K_M); "
                     "NAME+imatrix: made with the imatrix (then the plain NAME without)");
      app.add_option("--data", args->data, "Evaluation text(s), NAME=FILE or FILE (one domain each)");
      app.add_option("--prompts", args->prompts, "Prompts file, one per line (default: the lab's five)");
      app.add_option(
          "--tasks", args->tasks,
          "Task files every format is scored on: hellaswag=FILE,winogrande=FILE,mc=FILE (any "
          "subset, llama-perplexity's formats); 'none' for none (default: none; the demo: its own)");
      app.add_option(
          "--tasks-max", args->tasks_max,
          "Tasks drawn from each task file as llama-perplexity draws them, 0 for every task (default: "
          "every task; the demo: 100 of each)");
      app.add_option("--ram-budget", args->ram_budget, "RAM budget, e.g. 8G");
      app.add_option("--mem-limit", args->mem_limit,
                     "Memory the lab may keep models mapped in, e.g. 3G (default: available memory less a "
                     "margin); formats that do not fit together are evaluated one group at a time");
      app.add_option("--weights", args->weights, "Score weights, e.g. size=0.3,quality=0.4,speed=0.3");
      app.add_option("-c,--ctx-size", args->n_ctx, "Tokens per perplexity chunk (default 512)");
      app.add_option("--chunks", args->chunks, "Evaluate only the first N chunks of each text");
      app.add_option("--reference", args->reference,
                     "Measure increases and KLD against this format (one of --formats, e.g. Q8_0) instead of "
                     "the base, which is then not evaluated (for a base too large for the machine)");
      app.add_option("--imatrix", args->imatrix,
                     "Importance matrix (GGUF or .dat) for the formats that take one (NAME+imatrix)");
      app.add_option("--calibration", args->calibration,
                     "Calibration text: the lab computes the importance matrix from it once");
      app.add_option("--calibration-chunks", args->calibration_chunks,
                     "Chunks of the calibration text to use (default: all)");
      app.add_flag("--full", args->full,
                   "Evaluate every chunk in order (default: chunks in a seeded random order until each "
                   "format's increase and KLD are precise enough to rank it)");
      app.add_option("-t,--threads", args->threads, "Threads (default: all)");
      app.add_option("--out", args->out, "Output folder (default quantlab-lab)");
      app.add_option("--config", args->config, "TOML lab file with any of these settings");
      app.add_option("--n-predict", args->n_predict, "Tokens per generation sample (default 100)");
      app.add_option("--bench-reps", args->bench_reps, "Speed repetitions per format (default 3)");
      app.add_flag("--skip-speed", args->skip_speed, "Do not run the speed benchmark");
      app.add_flag("--no-progress", args->no_progress, "No progress bars");
      app.add_option("--stop-after", args->stop_after,
                     "Test hook: stop after N units of work, as a kill would")
          ->group("");
      app.add_option("--cache-disk-free", args->cache_disk_free,
                     "Test hook: assume this many bytes free for the base log-probability cache")
          ->group("");
      return [args] { return Run(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
