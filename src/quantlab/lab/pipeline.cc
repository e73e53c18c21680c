#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "quantlab/kernels/kernels.h"
#include "quantlab/lab/lab.h"
#include "quantlab/lab/lab_internal.h"
#include "quantlab/lab/store_schema.h"
#include "quantlab/model/model.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/recipes/imatrix_rules.h"
#include "quantlab/report/report.h"
#include "quantlab/util/format.h"
#include "quantlab/util/hash.h"
#include "quantlab/util/system_info.h"
#include "quantlab/util/text_file.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::lab {
namespace fs = std::filesystem;
using internal::LabPlan;

namespace {

Result<std::vector<std::string>> ReadPrompts(const std::string& path) {
  QL_ASSIGN_OR_RETURN_CTX(std::string text, ReadText(path), "prompts file");
  std::vector<std::string> prompts;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) prompts.push_back(line);
  }
  if (prompts.empty()) return MakeError("{}: no prompts (one per line expected)", path);
  return prompts;
}

std::string Upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// --reference FORMAT: that format (one of the lab's) becomes the reference and the base leaves the
// evaluated formats, so it is never loaded after quantization: the way to run a lab on a model whose base
// is too large for the machine.
Status UseReference(const std::string& name, LabPlan& plan) {
  const auto is_ref = [&](const internal::PlannedFormat& f) {
    return Upper(f.name) == Upper(name) || Upper(f.name) == Upper(name + std::string(kImatrixSuffix));
  };
  auto ref = std::find_if(plan.formats.begin(), plan.formats.end(), is_ref);
  if (ref == plan.formats.end()) {
    std::string names;
    for (const auto& f : plan.formats) names += (names.empty() ? "" : ", ") + f.name;
    return MakeError("--reference: '{}' is not one of the lab's formats ({})", name, names);
  }
  if (ref->is_base) {
    return MakeError("--reference: '{}' is the base itself; leave --reference out to compare with the base",
                     name);
  }
  plan.reference = ref->name;
  ref->is_reference = true;
  std::erase_if(plan.formats, [](const internal::PlannedFormat& f) { return f.is_base; });
  return Ok();
}

Result<LabPlan> MakePlan(LabConfig& config, const LabLog& log) {
  LabPlan plan;
  plan.tool_version = QUANTLAB_VERSION;
  plan.base_path = config.base_model;
  plan.model_name = fs::path(config.base_model).stem().string();
  QL_ASSIGN_OR_RETURN(auto model, Model::Load(config.base_model));
  plan.base_format = Upper(model->dominant_type_name());
  if (!FindRecipe(plan.base_format)) plan.base_format = "BASE";
  if (config.formats.empty()) config.formats = DefaultFormats(plan.base_format);
  // With an imatrix, every format it changes uses it, unless some names carry "+imatrix": then only those.
  const bool have_imatrix = !config.imatrix_file.empty() || !config.calibration_file.empty();
  const bool suffix_given = std::any_of(config.formats.begin(), config.formats.end(),
                                        [](const std::string& n) { return SplitImatrixSuffix(n).imatrix; });
  for (const auto& name : config.formats) {
    const FormatChoice choice = SplitImatrixSuffix(name);
    internal::PlannedFormat f;
    const bool is_base = Upper(choice.recipe) == plan.base_format || Upper(choice.recipe) == "BASE";
    if (is_base && !choice.imatrix) {
      f = {plan.base_format, FindRecipe(plan.base_format).value_or(Recipe::kF16), true, config.base_model};
    } else {
      const auto recipe = FindRecipe(choice.recipe);
      if (!recipe) return MakeError("--formats: unknown format '{}'", name);
      f.recipe = *recipe;
      f.uses_imatrix = have_imatrix && RecipeTakesImatrix(*recipe) && (!suffix_given || choice.imatrix);
      f.name = std::string(RecipeName(*recipe)) + (f.uses_imatrix ? std::string(kImatrixSuffix) : "");
      const std::string file =
          fmt::format("{}-{}{}.gguf", plan.model_name, RecipeName(*recipe), f.uses_imatrix ? "-imatrix" : "");
      f.path = (fs::path(config.out_dir) / "models" / file).string();
    }
    for (const auto& g : plan.formats) {
      if (g.name == f.name) return MakeError("--formats: '{}' is listed twice", f.name);
    }
    f.is_reference = f.is_base;
    plan.formats.push_back(f);
  }
  if (!config.reference.empty()) {
    QL_RETURN_IF_ERROR(UseReference(config.reference, plan));
  } else if (std::none_of(plan.formats.begin(), plan.formats.end(),
                          [](const auto& f) { return f.is_base; })) {
    // The base is what every comparison is made against: it is always measured.
    plan.formats.insert(plan.formats.begin(),
                        {plan.base_format, Recipe::kF16, true, config.base_model, /*is_reference=*/true});
  }
  if (log) log(fmt::format("hashing {}", config.base_model));
  QL_ASSIGN_OR_RETURN(plan.model_hash, Sha256FileHex(config.base_model));
  if (config.data.empty()) return MakeError("no evaluation text given (--data FILE)");
  for (const auto& d : config.data) {
    internal::PlannedData pd{d.name, d.path, "", ""};
    QL_ASSIGN_OR_RETURN_CTX(pd.text, ReadText(d.path), "evaluation text '{}'", d.name);
    pd.hash = Sha256Hex(pd.text);
    plan.data.push_back(std::move(pd));
  }
  if (!config.prompts.empty()) {
    plan.prompts = config.prompts;
  } else if (!config.prompts_file.empty()) {
    QL_ASSIGN_OR_RETURN(plan.prompts, ReadPrompts(config.prompts_file));
  } else {
    plan.prompts = DefaultPrompts();
  }
  plan.n_ctx = std::min(config.n_ctx, model->config().n_ctx_train);
  plan.chunks = config.chunks;
  plan.adaptive = config.chunks < 0 && !config.full;
  // Not the sampling seed: a new --seed must not reorder the chunks that are already measured.
  plan.chunk_seed = internal::kChunkOrderSeed;
  plan.ram_budget_bytes = config.ram_budget_bytes;
  plan.weights = config.weights;
  const MachineInfo machine = ReadMachineInfo();
  plan.machine.cpu_model = machine.cpu_model;
  plan.machine.logical_cpus = machine.logical_cpus;
  plan.machine.ram_bytes = machine.total_ram_bytes;
  plan.machine.llc_bytes = machine.llc_bytes;
  plan.machine.os = machine.os;
  plan.machine.simd = IsaName(DetectedIsa());
  plan.machine.threads = config.threads > 0 ? config.threads : ThreadPool::DefaultThreadCount();
  plan.eval = {.n_ctx = plan.n_ctx};
  plan.sample = {.n_predict = config.n_predict,
                 .temperature = config.temperature,
                 .top_p = config.top_p,
                 .top_k = config.top_k,
                 .seed = config.seed,
                 .greedy = true};
  plan.sampling_text = fmt::format("temp {:.2g}, top-p {:.2g}, top-k {}, seed {}", config.temperature,
                                   config.top_p, config.top_k, config.seed);
  plan.speed = {.n_prompt = std::min(config.bench_prompt, plan.n_ctx - 1),
                .n_gen = std::min(config.bench_gen, plan.n_ctx - 1),
                .repetitions = config.bench_repetitions,
                .threads = plan.machine.threads,
                .cpu = plan.machine.cpu_model,
                .isa = plan.machine.simd};
  plan.ram = {.n_ctx = plan.n_ctx, .threads = plan.machine.threads};
  return plan;
}

}  // namespace

Result<LabRunSummary> RunLab(LabConfig config, const LabLog& log) {
  const auto start = std::chrono::steady_clock::now();
  QL_RETURN_IF_ERROR(ApplyDemoDefaults(config));
  // A malformed base model stops the run before the lab folder is made: a failed first run leaves nothing.
  QL_ASSIGN_OR_RETURN(auto base_model, Model::Load(config.base_model));
  if (Status s = CheckReference(config); !s.ok()) return MakeError("--reference: {}", s.error().message);
  QL_RETURN_IF_ERROR(CheckImatrixChoice(config));
  // A bad --imatrix file or a missing calibration text stops the run before the lab folder is made.
  if (!config.imatrix_file.empty()) QL_RETURN_IF_ERROR_CTX(ReadImatrixFile(config.imatrix_file), "--imatrix");
  if (!config.calibration_file.empty())
    QL_RETURN_IF_ERROR_CTX(ReadText(config.calibration_file), "--calibration");
  // So do task files: read, and every task tokenized with the base's tokenizer (every format shares it)
  // and checked against the lab's context.
  QL_ASSIGN_OR_RETURN(std::vector<internal::PlannedTaskSet> task_sets, internal::PlanTaskSets(config));
  const TaskOptions task_options{.n_ctx = std::min(config.n_ctx, base_model->config().n_ctx_train)};
  for (const auto& t : task_sets) {
    QL_RETURN_IF_ERROR_CTX(CheckTasks(base_model->tokenizer(), t.tasks, task_options), "--tasks {}: {}",
                           t.name(), t.path);
  }
  base_model.reset();
  std::error_code ec;
  fs::create_directories(fs::path(config.out_dir) / "models", ec);
  if (ec) return MakeError("{}: cannot create the lab folder: {}", config.out_dir, ec.message());
  // Open (and integrity-check) the database before any work, so a damaged one stops the run at once.
  QL_ASSIGN_OR_RETURN(auto store, ResultsStore::Open((fs::path(config.out_dir) / kResultsFile).string()));
  QL_RETURN_IF_ERROR(PrepareStore(*store));
  QL_ASSIGN_OR_RETURN(LabPlan plan, MakePlan(config, log));
  QL_RETURN_IF_ERROR(internal::ResolveImatrix(config, plan, *store, log));
  plan.task_sets = std::move(task_sets);
  QL_RETURN_IF_ERROR(
      store->SetMeta("lab", plan.ToJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace)));

  LabRunSummary summary;
  summary.out_dir = config.out_dir;
  QL_ASSIGN_OR_RETURN(summary.rows_before, store->Count());
  internal::WorkBudget budget(config.stop_after_units);
  internal::RunContext ctx{config, plan, *store, budget, log};
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> devnull(nullptr, &std::fclose);
  if (!config.progress) {
    devnull.reset(std::fopen("/dev/null", "w"));
    if (devnull) ctx.progress_out = devnull.get();
  }
  // Each step's wall and CPU time, kept in the summary and logged as the step ends (bench/scale-lab.sh
  // reads them). The samples run inside the perplexity passes and are timed there.
  auto step_start = std::chrono::steady_clock::now();
  double step_cpu = ProcessCpuSeconds();
  const auto step_done = [&](const std::string& name, double minus_wall = 0, double minus_cpu = 0) {
    const auto now = std::chrono::steady_clock::now();
    const double cpu = ProcessCpuSeconds();
    summary.step_times.push_back({name, std::chrono::duration<double>(now - step_start).count() - minus_wall,
                                  cpu - step_cpu - minus_cpu});
    step_start = now;
    step_cpu = cpu;
    // Logged as it ends, so that a killed run still says how long its finished steps took.
    const auto& t = summary.step_times.back();
    if (log)
      log(fmt::format("step time: {} {} (CPU {})", t.name, HumanDuration(t.wall_seconds),
                      HumanDuration(t.cpu_seconds)));
  };
  QL_RETURN_IF_ERROR(internal::QuantizeStep(ctx));
  step_done("quantize");
  QL_RETURN_IF_ERROR(internal::EvalAndSampleSteps(ctx));
  step_done("perplexity + KLD", ctx.sample_seconds + ctx.task_seconds,
            ctx.sample_cpu_seconds + ctx.task_cpu_seconds);
  summary.step_times.push_back({"samples", ctx.sample_seconds, ctx.sample_cpu_seconds});
  if (!plan.task_sets.empty())
    summary.step_times.push_back({"tasks", ctx.task_seconds, ctx.task_cpu_seconds});
  if (log) {
    log(fmt::format("step time: samples {} (CPU {})", HumanDuration(ctx.sample_seconds),
                    HumanDuration(ctx.sample_cpu_seconds)));
    if (!plan.task_sets.empty()) {
      log(fmt::format("step time: tasks {} (CPU {})", HumanDuration(ctx.task_seconds),
                      HumanDuration(ctx.task_cpu_seconds)));
    }
  }
  QL_RETURN_IF_ERROR(internal::SpeedStep(ctx));
  step_done("speed");
  QL_ASSIGN_OR_RETURN(summary.rows_after, store->Count());
  summary.measured = ctx.measured;
  if (log) log("[5/5] analysis and report");
  QL_ASSIGN_OR_RETURN(summary.report_files,
                      RenderLabReport(config.out_dir, std::nullopt, true, &summary.analysis));
  step_done("report");
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

Result<std::vector<std::string>> RenderLabReport(const std::string& dir,
                                                 const std::optional<analysis::ScoreWeights>& weights,
                                                 bool write_files, analysis::Analysis* out) {
  const std::string path = (fs::path(dir) / kResultsFile).string();
  if (!fs::exists(path))
    return MakeError("{}: no results database here (run `quantlab run --out {}` first)", path, dir);
  QL_ASSIGN_OR_RETURN(auto store, ResultsStore::Open(path));
  QL_RETURN_IF_ERROR(PrepareStore(*store));
  QL_ASSIGN_OR_RETURN(analysis::LabResults results, LoadLabResults(*store));
  if (weights) results.weights = *weights;
  analysis::Analysis a = analysis::Analyze(results);
  std::vector<std::string> files;
  if (write_files) {
    QL_ASSIGN_OR_RETURN(files, report::WriteReport(results, a, dir));
  }
  if (out) *out = std::move(a);
  return files;
}

}  // namespace quantlab::lab
