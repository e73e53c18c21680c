// `quantlab tokenize`: the token ids of a text under a model's tokenizer, printed the way
// llama-tokenize prints them (one "id -> 'piece'" per line, or a Python-style list with --ids), so the
// two can be compared directly.
#include <fmt/core.h>

#include <memory>
#include <string>

#include "command_registry.h"
#include "quantlab/model/tokenizer.h"
#include "quantlab/util/text_file.h"

namespace quantlab::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string prompt;
  std::string file;
  bool ids_only = false;
  bool no_bos = false;
  bool no_parse_special = false;
  bool show_count = false;
};

Status RunTokenize(const TokenizeArgs& args) {
  std::string text = args.prompt;
  if (!args.file.empty()) {
    QL_ASSIGN_OR_RETURN(text, ReadText(args.file));
  }
  QL_ASSIGN_OR_RETURN(const Tokenizer tokenizer, Tokenizer::FromFile(args.model));
  // As llama-tokenize: BOS (and EOS, if the model adds one) only when the model asks for BOS.
  const bool add_special = tokenizer.add_bos() && !args.no_bos;
  const std::vector<int32_t> ids = tokenizer.Encode(text, add_special, !args.no_parse_special);

  if (args.ids_only) {
    fmt::print("[{}]\n", fmt::join(ids, ", "));
  } else {
    for (int32_t id : ids) fmt::print("{:6d} -> '{}'\n", id, tokenizer.TokenToPiece(id, /*special=*/true));
  }
  if (args.show_count) fmt::print("Total number of tokens: {}\n", ids.size());
  return Ok();
}

CommandRegistration registration{
    "tokenize", "Print the token ids of a text (as llama-tokenize does)", [](CLI::App& app) {
      auto args = std::make_shared<TokenizeArgs>();
      app.add_option("-m,--model", args->model, "Model GGUF file (only its tokenizer metadata is used)")
          ->required();
      auto* prompt =
          app.add_option("-p,--prompt", args->prompt, "Text to tokenize (taken as is, no escapes)");
      auto* file = app.add_option("-f,--file", args->file, "Read the text from this file");
      prompt->excludes(file);
      file->excludes(prompt);
      app.add_flag("--ids", args->ids_only, "Print only the ids, as a list: [1, 2, 3]");
      app.add_flag("--no-bos", args->no_bos, "Do not add BOS/EOS even when the model asks for them");
      app.add_flag("--no-parse-special", args->no_parse_special,
                   "Tokenize control-token texts such as <s> as plain text");
      app.add_flag("--show-count", args->show_count, "Print the number of tokens");
      return [args, prompt, file]() -> Status {
        if (prompt->count() == 0 && file->count() == 0)
          return UsageError("give the text with -p TEXT or -f FILE");
        return RunTokenize(*args);
      };
    }};

}  // namespace
}  // namespace quantlab::cli
