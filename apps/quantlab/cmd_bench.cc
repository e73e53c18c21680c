// `quantlab bench`: prompt-processing and generation speed, memory and bandwidth, in the spirit of
// llama-bench. JSON rows use llama-bench's field names so scripts written for it read these.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "command_registry.h"
#include "quantlab/eval/bench.h"
#include "quantlab/util/format.h"

namespace quantlab::cli {
namespace {

struct BenchArgs {
  std::vector<std::string> models;
  BenchOptions options;
  std::string output = "md";
  bool bandwidth = false;
  bool roofline = false;
};

// What the machine was measured at (--bandwidth, --roofline); zero where not measured.
struct Machine {
  double bandwidth_gbs = 0;
  bool peaks_measured = false;
  ComputePeaks peaks;
};

// One row per test, as llama-bench prints them: a pp row (n_gen = 0) and a tg row (n_prompt = 0).
struct Row {
  const BenchResult* result;
  bool is_prompt;
  const RateStats& stats() const { return is_prompt ? result->pp : result->tg; }
  std::string test() const {
    return is_prompt ? fmt::format("pp{}", result->n_prompt) : fmt::format("tg{}", result->n_gen);
  }
};

std::vector<Row> RowsOf(const std::vector<BenchResult>& results) {
  std::vector<Row> rows;
  for (const auto& r : results) {
    if (r.n_prompt > 0) rows.push_back({&r, true});
    if (r.n_gen > 0) rows.push_back({&r, false});
  }
  return rows;
}

std::string IsoTime() {
  std::time_t now = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buffer;
}

// The pp row's fraction of its compute peak; 0 when the peaks were not measured.
double ComputeFraction(const BenchResult& r, const Machine& machine) {
  const double peak = machine.peaks.Of(r.compute_kind);
  return peak > 0 ? r.pp_ops_per_s / peak : 0;
}

nlohmann::json RowJson(const Row& row, const Machine& machine) {
  const double machine_bandwidth = machine.bandwidth_gbs;
  const BenchResult& r = *row.result;
  const RateStats& s = row.stats();
  nlohmann::json j;
  j["build_commit"] = "quantlab-" QUANTLAB_VERSION;
  j["cpu_info"] = "";
  j["backends"] = "CPU";
  j["model_filename"] = r.model_filename;
  j["model_type"] = r.model_type;
  j["model_size"] = r.model_size;
  j["model_n_params"] = r.model_n_params;
  j["n_batch"] = r.n_batch;
  j["n_ubatch"] = r.n_batch;
  j["n_threads"] = r.n_threads;
  j["type_k"] = "f16";
  j["type_v"] = "f16";
  j["n_gpu_layers"] = 0;
  j["use_mmap"] = true;
  j["n_prompt"] = row.is_prompt ? r.n_prompt : 0;
  j["n_gen"] = row.is_prompt ? 0 : r.n_gen;
  j["test_time"] = IsoTime();
  j["avg_ns"] = static_cast<uint64_t>(s.avg_ns);
  j["stddev_ns"] = static_cast<uint64_t>(s.stddev_ns);
  j["avg_ts"] = s.avg_ts;
  j["stddev_ts"] = s.stddev_ts;
  j["samples_ns"] = s.samples_ns;
  j["samples_ts"] = s.samples_ts;
  // quantlab's additions.
  j["isa"] = r.isa;
  j["load_seconds"] = r.load_seconds;
  j["peak_rss_bytes"] = r.peak_rss_bytes;
  j["kv_cache_bytes"] = r.kv_cache_bytes;
  j["predicted_ram_bytes"] = r.predicted.total();
  if (!row.is_prompt) {
    j["bytes_per_token"] = r.bytes_per_token;
    j["achieved_bandwidth_gbs"] = r.tg_bandwidth_gbs;
    if (machine_bandwidth > 0) j["bandwidth_fraction"] = r.tg_bandwidth_gbs / machine_bandwidth;
  } else {
    j["matmul_params"] = r.matmul_params;
    j["matmul_ops_per_s"] = r.pp_ops_per_s;
    j["compute_kind"] = r.compute_kind;
    if (machine.peaks.Of(r.compute_kind) > 0) {
      j["compute_peak_ops_per_s"] = machine.peaks.Of(r.compute_kind);
      j["compute_fraction"] = ComputeFraction(r, machine);
    }
  }
  return j;
}

void PrintMarkdown(const std::vector<Row>& rows, const Machine& machine) {
  const double machine_bandwidth = machine.bandwidth_gbs;
  fmt::print(
      "| model | size | params | isa | threads | test | t/s | peak RSS | predicted RAM | GB/s | matmul GOP/s "
      "|\n");
  fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const auto& row : rows) {
    const BenchResult& r = *row.result;
    std::string gbs = row.is_prompt ? "" : fmt::format("{:.1f}", r.tg_bandwidth_gbs);
    if (!row.is_prompt && machine_bandwidth > 0) {
      gbs += fmt::format(" ({:.0f}%)", 100 * r.tg_bandwidth_gbs / machine_bandwidth);
    }
    std::string gops = row.is_prompt ? fmt::format("{:.1f}", r.pp_ops_per_s / 1e9) : "";
    if (row.is_prompt && ComputeFraction(r, machine) > 0) {
      gops += fmt::format(" ({:.0f}% {})", 100 * ComputeFraction(r, machine), r.compute_kind);
    }
    fmt::print("| {} | {} | {:.2f} M | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} | {} | {} |\n", r.model_type,
               HumanBytes(r.model_size), r.model_n_params / 1e6, r.isa, r.n_threads, row.test(),
               row.stats().avg_ts, row.stats().stddev_ts, HumanBytes(r.peak_rss_bytes),
               HumanBytes(r.predicted.total()), gbs, gops);
  }
  if (machine_bandwidth > 0) fmt::print("\nmeasured memory read bandwidth: {:.1f} GB/s\n", machine_bandwidth);
  const ComputePeaks& p = machine.peaks;
  if (machine.peaks_measured) {
    const auto peak = [](double ops) {
      return ops > 0 ? fmt::format("{:.1f}", ops / 1e9) : std::string("-");
    };
    fmt::print("measured compute peaks (GOP/s, {} threads): f32_fma {}, int8_dot {}, bf16_dot {}\n",
               rows.empty() ? 0 : rows.front().result->n_threads, peak(p.f32_fma), peak(p.int8_dot),
               peak(p.bf16_dot));
  }
}

void PrintCsv(const std::vector<Row>& rows, const Machine& machine) {
  fmt::print(
      "model_filename,model_type,model_size,model_n_params,n_threads,n_prompt,n_gen,avg_ts,stddev_ts,"
      "peak_rss_bytes,predicted_ram_bytes,achieved_bandwidth_gbs,bandwidth_fraction,matmul_ops_per_s,"
      "compute_kind,compute_fraction\n");
  for (const auto& row : rows) {
    const BenchResult& r = *row.result;
    const auto j = RowJson(row, machine);
    const bool tg = !row.is_prompt;
    fmt::print("\"{}\",\"{}\",{},{},{},{},{},{:.4f},{:.4f},{},{},{:.3f},{:.4f},{:.4g},{},{:.4f}\n",
               r.model_filename, r.model_type, r.model_size, r.model_n_params, r.n_threads,
               j["n_prompt"].get<int>(), j["n_gen"].get<int>(), row.stats().avg_ts, row.stats().stddev_ts,
               r.peak_rss_bytes, r.predicted.total(), tg ? r.tg_bandwidth_gbs : 0.0,
               tg && machine.bandwidth_gbs > 0 ? r.tg_bandwidth_gbs / machine.bandwidth_gbs : 0.0,
               tg ? 0.0 : r.pp_ops_per_s, tg ? "" : r.compute_kind, tg ? 0.0 : ComputeFraction(r, machine));
  }
}

Status Run(const BenchArgs& args) {
  if (args.output != "md" && args.output != "csv" && args.output != "json") {
    return UsageError("-o must be md, csv or json (got '{}')", args.output);
  }
  std::vector<BenchResult> results;
  for (const auto& path : args.models) {
    // Status lines redraw in place on a terminal; logs and pipes get none.
    const bool interactive = isatty(STDERR_FILENO) != 0;
    auto result = RunBench(path, args.options, [&](const std::string& status) {
      if (interactive) fmt::print(stderr, "\r{}: {}\033[K", path, status);
    });
    if (interactive) fmt::print(stderr, "\r\033[K");
    QL_ASSIGN_OR_RETURN(BenchResult done, std::move(result));
    results.push_back(std::move(done));
  }
  Machine machine;
  if ((args.bandwidth || args.roofline) && !results.empty()) {
    machine.bandwidth_gbs = MeasureReadBandwidthGbs(results.front().n_threads);
    for (auto& r : results) r.machine_bandwidth_gbs = machine.bandwidth_gbs;
  }
  if (args.roofline && !results.empty()) {
    machine.peaks = MeasureComputePeaks(results.front().n_threads);
    machine.peaks_measured = true;
  }
  const auto rows = RowsOf(results);
  if (args.output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : rows) out.push_back(RowJson(row, machine));
    fmt::print("{}\n", out.dump(2));
  } else if (args.output == "csv") {
    PrintCsv(rows, machine);
  } else {
    PrintMarkdown(rows, machine);
  }
  return Ok();
}

const CommandRegistration kRegistration{
    "bench", "Measure prompt and generation speed, memory and bandwidth (like llama-bench)",
    [](CLI::App& app) -> CommandRunner {
      auto args = std::make_shared<BenchArgs>();
      app.add_option("-m,--model", args->models, "GGUF model(s); repeat for several")->required();
      app.add_option("-p,--n-prompt", args->options.n_prompt, "prompt tokens for the pp test (0: skip)");
      app.add_option("-n,--n-gen", args->options.n_gen, "generated tokens for the tg test (0: skip)");
      app.add_option("-b,--batch-size", args->options.n_batch, "tokens per forward pass in the pp test");
      app.add_option("-t,--threads", args->options.n_threads, "threads (0: all cores)");
      app.add_option("-r,--repetitions", args->options.repetitions, "repetitions of each test");
      app.add_option("-o,--output", args->output, "md, csv or json");
      app.add_flag("--bandwidth", args->bandwidth,
                   "also measure memory read bandwidth and report the fraction");
      app.add_flag("--roofline", args->roofline,
                   "also measure the compute peaks (f32 FMA, int8 dot, bf16 dot) and the memory bandwidth, "
                   "and report the fraction pp and tg reach");
      return [args] { return Run(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
