// Text generation: encode the prompt (BOS per the vocabulary's flag), evaluate it as one batch, then
// sample one token at a time, streaming each piece to a callback, until n_predict tokens, an
// end-of-generation token, or the context is full.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/eval/sampler.h"
#include "quantlab/model/model.h"
#include "quantlab/util/result.h"

namespace quantlab {

struct GenerateOptions {
  int n_predict = 100;
  SamplerOptions sampling;
  bool stop_at_eog = true;  // stop at EOS/EOT (the end token is not part of the text)
};

struct GenerateResult {
  std::string text;                    // the generated continuation only (not the prompt)
  std::vector<int32_t> prompt_tokens;  // as evaluated, with BOS when added
  std::vector<int32_t> tokens;         // generated ids (an end token that stopped generation excluded)
  bool stopped_at_eog = false;
  double prompt_seconds = 0;  // evaluating the prompt
  double gen_seconds = 0;     // sampling + evaluating the generated tokens
  double prompt_tokens_per_second() const {
    return prompt_seconds > 0 ? prompt_tokens.size() / prompt_seconds : 0;
  }
  double gen_tokens_per_second() const { return gen_seconds > 0 ? tokens.size() / gen_seconds : 0; }
};

// Receives each generated token and its text piece as soon as it is sampled. Return false to stop.
using TokenCallback = std::function<bool(int32_t token, std::string_view piece)>;

// Resets the session first. Errors: empty prompt, prompt longer than the context.
Result<GenerateResult> Generate(Session& session, std::string_view prompt, const GenerateOptions& options,
                                const TokenCallback& on_token = {});

}  // namespace quantlab
