// Small synthetic llama models with one model-level defect each: files that read as valid GGUF but are
// not well-formed models (gguf/model_checks.h), as a broken converter or a hostile sender produces them.
// Every command that loads a model must refuse each with a clear error and leave no output.
#pragma once

#include <string>
#include <vector>

#include "quantlab/util/result.h"

namespace quantlab::testing {

enum class ModelDefect {
  kZeroDimensionTensor,  // blk.0.ffn_up.weight has a row length of 0 (quantize used to die of SIGFPE)
  kScoresAsU8,           // tokenizer.ggml.scores stored as u8 instead of f32
  kTokenTypesAsU8,       // tokenizer.ggml.token_type stored as u8 instead of i32
  kShortScores,          // one score fewer than there are tokens
};

struct MalformedModel {
  ModelDefect defect;
  std::string name;              // for test names
  std::string expected_message;  // a fragment every command's error must contain
};

// Every defect, with the fragment of the error that names it.
const std::vector<MalformedModel>& AllMalformedModels();

// Writes a 1-layer synthetic model (vocabulary 300, training context 256) with `defect` to `path`.
Status WriteMalformedModel(ModelDefect defect, const std::string& path);

}  // namespace quantlab::testing
