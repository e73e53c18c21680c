// `quantlab imatrix -m MODEL -f CALIBRATION.txt [-c N] [--chunks N] [-t N] [-o FILE] [--process-output]
// [--output-format gguf|dat] [--eval-text FILE]...`: the importance matrix llama-imatrix computes
// (eval/imatrix.h), written as current llama-imatrix writes it: GGUF (quant/imatrix_gguf.h) unless
// `--output-format dat` asks for the legacy .dat, with a warning when a GGUF file's name does not end in
// .gguf. `quantlab quantize --imatrix` and llama-quantize read both. Warns when the
// calibration text overlaps an evaluation text (eval/text_overlap.h): by default the lab's built-in
// evaluation text.
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "command_registry.h"
#include "quantlab/eval/imatrix.h"
#include "quantlab/eval/text_overlap.h"
#include "quantlab/lab/config.h"
#include "quantlab/util/hash.h"
#include "quantlab/util/progress.h"
#include "quantlab/util/text_file.h"
#include "quantlab/util/thread_pool.h"

namespace quantlab::cli {
namespace {

namespace fs = std::filesystem;

struct ImatrixArgs {
  std::string model;
  std::string text_file;
  std::string output = "imatrix.gguf";
  std::string output_format = "gguf";
  std::vector<std::string> eval_texts;
  int n_ctx = 512;
  int chunks = -1;
  int threads = 0;
  bool process_output = false;
};

// The option values that can be judged without reading the model.
Status CheckArgs(const ImatrixArgs& args) {
  if (args.output_format != "gguf" && args.output_format != "dat")
    return UsageError("--output-format: '{}' is neither gguf nor dat", args.output_format);
  if (args.n_ctx < 1) return UsageError("-c: context size must be at least 1 (got {})", args.n_ctx);
  if (args.chunks == 0 || args.chunks < -1)
    return UsageError("--chunks: must be at least 1, or -1 for all (got {})", args.chunks);
  if (args.threads < 0) return UsageError("-t: thread count must be >= 0 (got {})", args.threads);
  const fs::path parent = fs::absolute(args.output).parent_path();
  std::error_code ec;
  if (!fs::is_directory(parent, ec))
    return MakeError("-o {}: folder {} does not exist", args.output, parent.string());
  if (fs::is_directory(args.output, ec)) return MakeError("-o {}: is a folder", args.output);
  return Ok();
}

// The evaluation texts to compare the calibration text with: those given, or the lab's built-in one.
std::vector<std::string> EvaluationTexts(const ImatrixArgs& args) {
  if (!args.eval_texts.empty()) return args.eval_texts;
  auto demo = lab::FindDemoDir();
  if (!demo.ok()) return {};
  const fs::path eval = fs::path(*demo) / "eval.txt";
  std::error_code ec;
  return fs::exists(eval, ec) ? std::vector<std::string>{eval.string()} : std::vector<std::string>{};
}

// Prints a warning for each evaluation text the calibration text overlaps.
Status WarnAboutOverlap(const Model& model, const std::string& calibration_text, const ImatrixArgs& args) {
  const std::string calibration_hash = Sha256Hex(calibration_text);
  const std::vector<int32_t> calibration = model.tokenizer().Encode(calibration_text, /*add_special=*/false);
  for (const std::string& path : EvaluationTexts(args)) {
    QL_ASSIGN_OR_RETURN_CTX(const std::string text, ReadText(path), "--eval-text");
    if (Sha256Hex(text) == calibration_hash) {
      fmt::print(stderr, "warning: the calibration text {} is the evaluation text {} (same SHA-256)\n",
                 args.text_file, path);
      continue;
    }
    const TextOverlap overlap = MeasureOverlap(calibration, model.tokenizer().Encode(text, false));
    if (overlap.worth_a_warning()) {
      fmt::print(stderr,
                 "warning: the calibration text {} overlaps the evaluation text {}: {:.1f}% of its {}-token "
                 "windows ({} of {}) occur there\n",
                 args.text_file, path, 100.0 * overlap.fraction(), kOverlapWindow, overlap.shared,
                 overlap.windows);
    }
  }
  return Ok();
}

Status RunImatrix(const ImatrixArgs& args) {
  QL_RETURN_IF_ERROR(CheckArgs(args));
  QL_ASSIGN_OR_RETURN_CTX(const std::string text, ReadText(args.text_file), "calibration text");
  if (text.empty()) return MakeError("calibration text {}: the file is empty", args.text_file);
  QL_ASSIGN_OR_RETURN(const auto model, Model::Load(args.model));
  const ImatrixOptions options{
      .n_ctx = args.n_ctx, .max_chunks = args.chunks, .process_output = args.process_output};
  QL_ASSIGN_OR_RETURN_CTX(const ImatrixInput input, PrepareImatrix(*model, text, options), "{}",
                          args.text_file);
  QL_RETURN_IF_ERROR(WarnAboutOverlap(*model, text, args));

  ThreadPool pool(args.threads);
  ProgressBar progress("imatrix", static_cast<uint64_t>(input.tokens.n_chunks), "chunks");
  auto result = ComputeImatrix(*model, input, pool, args.text_file,
                               [&](int done, int) { progress.Update(static_cast<uint64_t>(done)); });
  progress.Finish();
  if (!result.ok()) return result.error().Wrap(args.text_file);
  if (args.output_format == "dat") {
    QL_RETURN_IF_ERROR(WriteImatrixDatFile(args.output, result->dat));
  } else {
    // llama-imatrix's warning: the GGUF form under another name may surprise a tool expecting a .dat.
    if (!args.output.ends_with(".gguf")) {
      fmt::print(stderr,
                 "warning: writing the GGUF imatrix format to {}, whose name does not end in .gguf; "
                 "--output-format dat writes the legacy format\n",
                 args.output);
    }
    QL_RETURN_IF_ERROR(WriteImatrixGgufFile(args.output, result->gguf));
  }
  fmt::print("{}: {} entries from {} chunks of {} tokens ({} tokens in the text), {:.1f} s, {} threads\n",
             args.output, result->dat.entries.size(), result->n_chunks, result->n_ctx, result->n_tokens,
             result->seconds, pool.size());
  return Ok();
}

CommandRegistration registration{
    "imatrix", "Importance matrix of a model on a calibration text (llama-imatrix's method and files)",
    [](CLI::App& app) {
      auto args = std::make_shared<ImatrixArgs>();
      app.add_option("-m,--model", args->model, "Model GGUF file")->required();
      app.add_option("-f,--file", args->text_file, "Calibration text")->required();
      app.add_option("-o,--output", args->output, "Output imatrix file")->capture_default_str();
      app.add_option("--output-format", args->output_format,
                     "gguf (current llama-imatrix's format) or dat (its legacy format)")
          ->capture_default_str();
      app.add_option("-c,--ctx-size", args->n_ctx, "Tokens per chunk (rounded up to a multiple of 32)")
          ->capture_default_str();
      app.add_option("--chunks", args->chunks, "Use at most this many chunks (-1: all)")
          ->capture_default_str();
      app.add_option("-t,--threads", args->threads, "Threads (0: all cores)")->capture_default_str();
      app.add_flag("--process-output", args->process_output, "Also collect output.weight");
      app.add_option("--eval-text", args->eval_texts,
                     "Evaluation text to check the calibration text against (repeatable; default: the "
                     "lab's built-in evaluation text)");
      return [args] { return RunImatrix(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
