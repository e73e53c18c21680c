// `quantlab inspect MODEL.gguf [--json] [--no-tensors]`: what a GGUF file holds. A file that reads as
// GGUF but is not a well-formed model (gguf/model_checks.h) is still shown, so the fault can be seen in
// context, and then reported as an error.
#include <fmt/core.h>

#include <memory>

#include "command_registry.h"
#include "quantlab/gguf/model_checks.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/gguf/summary.h"

namespace quantlab::cli {
namespace {

struct InspectOptions {
  std::string path;
  bool json = false;
  bool no_tensors = false;
};

Status RunInspect(const InspectOptions& opts) {
  QL_ASSIGN_OR_RETURN(const GgufFile file, GgufFile::Open(opts.path));
  const GgufSummary summary = SummarizeGguf(file);
  if (opts.json) {
    nlohmann::json j = SummaryToJson(summary);
    if (opts.no_tensors) j.erase("tensors");
    // Tokens may hold invalid UTF-8 (byte pieces); replace rather than throw.
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("{}", RenderSummaryText(summary, !opts.no_tensors));
  }
  return CheckModelFile(file);
}

CommandRegistration registration{
    "inspect", "Show a GGUF file's architecture, hyperparameters, tokenizer, file type, tensors and totals",
    [](CLI::App& app) {
      auto opts = std::make_shared<InspectOptions>();
      app.add_option("model", opts->path, "GGUF file")->required();
      app.add_flag("--json", opts->json, "Print JSON instead of text");
      app.add_flag("--no-tensors", opts->no_tensors, "Leave out the tensor table");
      return [opts] { return RunInspect(*opts); };
    }};

}  // namespace
}  // namespace quantlab::cli
