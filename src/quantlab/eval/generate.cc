#include "quantlab/eval/generate.h"

#include <chrono>

namespace quantlab {
namespace {
double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

Result<GenerateResult> Generate(Session& session, std::string_view prompt, const GenerateOptions& options,
                                const TokenCallback& on_token) {
  if (prompt.empty()) return MakeError("the prompt is empty");
  if (options.n_predict < 0) return MakeError("the number of tokens to generate must be >= 0");
  const Tokenizer& tokenizer = session.model().tokenizer();
  GenerateResult result;
  result.prompt_tokens = tokenizer.Encode(prompt, /*add_special=*/true, /*parse_special=*/true);
  if (result.prompt_tokens.empty()) return MakeError("the prompt tokenizes to nothing");
  if (static_cast<int>(result.prompt_tokens.size()) >= session.n_ctx()) {
    return MakeError("the prompt has {} tokens, which does not leave room in a context of {}",
                     result.prompt_tokens.size(), session.n_ctx());
  }

  session.Reset();
  Sampler sampler(options.sampling);
  auto start = std::chrono::steady_clock::now();
  QL_ASSIGN_OR_RETURN(std::span<const float> logits, session.Decode(result.prompt_tokens));
  result.prompt_seconds = SecondsSince(start);

  start = std::chrono::steady_clock::now();
  for (int i = 0; i < options.n_predict; ++i) {
    const int32_t token = sampler.Sample(logits);
    if (options.stop_at_eog && tokenizer.IsEog(token)) {
      result.stopped_at_eog = true;
      break;
    }
    result.tokens.push_back(token);
    const std::string piece = tokenizer.TokenToPiece(token);
    result.text += piece;
    if (on_token && !on_token(token, piece)) break;
    if (i + 1 == options.n_predict || session.n_past() >= session.n_ctx()) break;
    const int32_t next[1] = {token};
    QL_ASSIGN_OR_RETURN(logits, session.Decode(next));
  }
  result.gen_seconds = SecondsSince(start);
  return result;
}

}  // namespace quantlab
