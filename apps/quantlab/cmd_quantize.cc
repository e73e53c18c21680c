// `quantlab quantize IN.gguf OUT.gguf TYPE`: writes the file llama-quantize would write for the recipe
// (same tensor types and bytes), with a line per tensor (progress, type chosen, size, error vs source)
// and totals; --json writes the full report.
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "command_registry.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/types.h"
#include "quantlab/quant/imatrix.h"
#include "quantlab/recipes/quantize_model.h"
#include "quantlab/recipes/recipe.h"
#include "quantlab/util/atomic_file.h"
#include "quantlab/util/format.h"

namespace quantlab::cli {
namespace {

struct QuantizeArgs {
  std::string input;
  std::string output;
  std::string recipe;
  int threads = 0;
  std::string imatrix;
  std::string json;
  bool pure = false;
  std::string output_tensor_type;
  std::string token_embedding_type;
  bool allow_requantize = false;
  bool leave_output_tensor = false;
  bool quiet = false;
  bool no_stats = false;
};

std::string RecipeList() {
  std::string names;
  for (const auto& info : AllRecipes()) names += fmt::format("{}{}", names.empty() ? "" : ", ", info.name);
  return names;
}

Result<std::optional<GgmlType>> ParseType(const std::string& name, const char* option) {
  if (name.empty()) return std::optional<GgmlType>();
  auto type = GgmlTypeFromName(name);
  if (!type) return UsageError("{}: unknown tensor type '{}'", option, name);
  return std::optional<GgmlType>(*type);
}

std::string Mib(uint64_t bytes) { return fmt::format("{:.2f} MiB", bytes / 1048576.0); }

// One line per tensor: position, name, types, sizes, error, then throughput and time left.
class TensorLines {
 public:
  explicit TensorLines(bool quiet) : quiet_(quiet), start_(std::chrono::steady_clock::now()) {}

  void Print(const TensorReport& t, size_t index, size_t count, uint64_t total_source_bytes) {
    done_bytes_ += t.source_bytes;
    if (quiet_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? done_bytes_ / elapsed : 0.0;
    std::string what = t.converted ? fmt::format("{:>5} -> {:<6}", TypeName(t.source_type), TypeName(t.type))
                                   : fmt::format("{:>5}    {:<6}", TypeName(t.type), "(copy)");
    std::string error;
    if (t.converted && t.distortion.count > 0) {
      error = fmt::format("  rmse {:.3e}  max {:.3e}  cos {:.6f}", t.distortion.rmse,
                          t.distortion.max_abs_error, t.distortion.cosine);
    }
    std::string eta;
    if (rate > 0 && index + 1 < count) {
      eta = fmt::format("  ETA {}", HumanDuration((total_source_bytes - done_bytes_) / rate));
    }
    fmt::print(stderr, "[{:>4}/{:>4}] {:<32} {} {:>10} -> {:>10}{}{}  {:.1f} MB/s{}\n", index + 1, count,
               t.name, what, Mib(t.source_bytes), Mib(t.bytes), t.fallback ? " (fallback)" : "", error,
               rate / 1e6, eta);
  }

 private:
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  uint64_t done_bytes_ = 0;
};

Status Run(const QuantizeArgs& args) {
  auto recipe = FindRecipe(args.recipe);
  if (!recipe) return UsageError("unknown recipe '{}' (one of {})", args.recipe, RecipeList());
  QuantizeModelOptions options;
  options.recipe = *recipe;
  options.threads = args.threads;
  options.measure_distortion = !args.no_stats;
  options.plan.pure = args.pure;
  options.plan.allow_requantize = args.allow_requantize;
  options.plan.quantize_output_tensor = !args.leave_output_tensor;
  for (auto [text, target, option] :
       {std::tuple{&args.output_tensor_type, &options.plan.output_tensor_type, "--output-tensor-type"},
        std::tuple{&args.token_embedding_type, &options.plan.token_embedding_type,
                   "--token-embedding-type"}}) {
    QL_ASSIGN_OR_RETURN(*target, ParseType(*text, option));
  }

  ImportanceMatrix imatrix;
  if (!args.imatrix.empty()) {
    QL_ASSIGN_OR_RETURN(imatrix, ReadImatrixFile(args.imatrix));
    options.imatrix = &imatrix;
    options.imatrix_path = args.imatrix;
    fmt::print(stderr, "imatrix: {} entries from {}\n", imatrix.entries.size(), args.imatrix);
  }

  fmt::print(stderr, "quantizing {} to {} as {} ({})\n", args.input, args.output, RecipeName(*recipe),
             LlamaFileTypeName(FileTypeValue(*recipe)));
  TensorLines lines(args.quiet);
  uint64_t total_source_bytes = 0;
  // The first callback carries no total yet; the report's total is known only after planning, so the
  // ETA uses the sum of the tensors' source sizes, read from the tensor list up front.
  options.on_tensor = [&](const TensorReport& t, size_t index, size_t count) {
    lines.Print(t, index, count, total_source_bytes);
    return true;
  };
  {
    auto file = GgufFile::Open(args.input);
    if (file.ok()) {
      for (const auto& t : file->tensors()) total_source_bytes += t.n_bytes;
    }
  }

  QL_ASSIGN_OR_RETURN(const QuantizeReport report, QuantizeModel(args.input, args.output, options));
  for (const auto& warning : report.warnings) fmt::print(stderr, "warning: {}\n", warning);
  if (report.n_fallback > 0) {
    fmt::print(stderr, "warning: {} of {} tensor(s) required fallback quantization\n", report.n_fallback,
               report.n_fallback + report.n_k_quantized);
  }
  fmt::print("{}: {} -> {} ({} tensors, {} threads, {:.1f}s)\n", RecipeName(report.recipe),
             HumanBytes(report.source_tensor_bytes), HumanBytes(report.output_tensor_bytes),
             report.tensors.size(), report.threads, report.seconds);
  fmt::print("compression {:.2f}x, {:.3f} bits per weight, file {}, peak memory {}\n",
             report.compression_ratio(), report.bits_per_weight(), HumanBytes(report.output_file_bytes),
             HumanBytes(report.peak_rss_bytes));

  if (!args.json.empty()) {
    const std::string text = QuantizeReportToJson(report).dump(1) + "\n";
    QL_RETURN_IF_ERROR(WriteFileAtomically(args.json, std::as_bytes(std::span(text.data(), text.size()))));
  }
  return Ok();
}

static CommandRegistration registration{
    "quantize",
    "Quantize a GGUF model with one of llama.cpp's recipes (same types and bytes as llama-quantize)",
    [](CLI::App& app) {
      auto args = std::make_shared<QuantizeArgs>();
      app.add_option("input", args->input, "Source model (F32/F16/BF16 GGUF)")->required();
      app.add_option("output", args->output, "Quantized model to write")->required();
      app.add_option("type", args->recipe, "Recipe: " + RecipeList())->required();
      app.add_option("--threads,-t", args->threads, "Threads (default: all)");
      app.add_option("--imatrix", args->imatrix, "llama.cpp importance-matrix file");
      app.add_option("--json", args->json, "Write the per-tensor report as JSON");
      app.add_flag("--pure", args->pure, "No mixture: every quantized tensor gets the recipe's default type");
      app.add_option("--output-tensor-type", args->output_tensor_type, "Type for output.weight (e.g. q8_0)");
      app.add_option("--token-embedding-type", args->token_embedding_type, "Type for token_embd.weight");
      app.add_flag("--allow-requantize", args->allow_requantize, "Accept already-quantized source tensors");
      app.add_flag("--leave-output-tensor", args->leave_output_tensor, "Copy output.weight unchanged");
      app.add_flag("--no-stats", args->no_stats, "Skip measuring each tensor's error (faster)");
      app.add_flag("--quiet,-q", args->quiet, "No per-tensor lines");
      return [args] { return Run(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
