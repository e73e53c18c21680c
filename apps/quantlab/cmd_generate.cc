// `quantlab generate -m MODEL -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--seed S] [-t N]`:
// prints the prompt, then streams the continuation token by token; speeds go to stderr at the end.
#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "command_registry.h"
#include "quantlab/eval/generate.h"

namespace quantlab::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt;
  GenerateOptions options;
  int n_ctx = 0;
  int threads = 0;
};

Status RunGenerate(const GenerateArgs& args) {
  QL_ASSIGN_OR_RETURN(const auto model, Model::Load(args.model));
  const LlamaConfig& c = model->config();
  // Room for the prompt and the continuation, without allocating the whole training context.
  const int n_ctx = args.n_ctx > 0 ? args.n_ctx : std::min(c.n_ctx_train, 4096);
  QL_ASSIGN_OR_RETURN(const auto session,
                      Session::Create(*model, SessionOptions{.n_ctx = n_ctx, .n_threads = args.threads}));

  fmt::print("{}", args.prompt);
  std::fflush(stdout);
  auto generated = Generate(*session, args.prompt, args.options, [](int32_t, std::string_view piece) {
    fmt::print("{}", piece);
    std::fflush(stdout);
    return true;
  });
  fmt::print("\n");
  QL_ASSIGN_OR_RETURN(const GenerateResult result, std::move(generated));
  fmt::print(
      stderr,
      "prompt: {} tokens in {:.3f} s ({:.1f} tok/s); generation: {} tokens in {:.3f} s ({:.1f} tok/s){}\n",
      result.prompt_tokens.size(), result.prompt_seconds, result.prompt_tokens_per_second(),
      result.tokens.size(), result.gen_seconds, result.gen_tokens_per_second(),
      result.stopped_at_eog ? ", stopped at end of text" : "");
  return Ok();
}

CommandRegistration registration{
    "generate", "Generate text from a prompt (greedy at --temp 0)", [](CLI::App& app) {
      auto args = std::make_shared<GenerateArgs>();
      SamplerOptions& s = args->options.sampling;
      app.add_option("-m,--model", args->model, "Model GGUF file")->required();
      app.add_option("-p,--prompt", args->prompt, "Prompt text")->required();
      app.add_option("-n,--n-predict", args->options.n_predict, "Tokens to generate")->capture_default_str();
      app.add_option("--temp", s.temperature, "Temperature (0: greedy)")->capture_default_str();
      app.add_option("--top-k", s.top_k, "Keep the k most likely tokens (0: all)")->capture_default_str();
      app.add_option("--top-p", s.top_p, "Nucleus: keep the most likely tokens up to this mass (1: all)")
          ->capture_default_str();
      app.add_option("--seed", s.seed, "Random seed")->capture_default_str();
      app.add_option("-c,--ctx-size", args->n_ctx, "Context size (0: min(training context, 4096))");
      app.add_option("-t,--threads", args->threads, "Threads (0: all cores)")->capture_default_str();
      return [args] { return RunGenerate(*args); };
    }};

}  // namespace
}  // namespace quantlab::cli
