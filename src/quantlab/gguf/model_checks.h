// The checks that make a GGUF file a well-formed model, run before anything is computed from it. Every
// command that loads a model runs them first (Model::Load, QuantizeModel, and `inspect` to flag the
// file), so a malformed model gets the same clear error everywhere instead of a crash in one command
// and silently wrong numbers in another.
//
// Checked here: every tensor has dimensions of at least 1 (a zero dimension holds no weights; no model
// has one, and row arithmetic would divide by it), and the tokenizer arrays, where present, hold the
// element type llama.cpp reads them as, with one score and one type per token. What a consumer needs
// beyond a well-formed file (a supported architecture, hyperparameters, tensor shapes, a vocabulary at
// all) it checks itself.
#pragma once

#include "quantlab/gguf/metadata.h"
#include "quantlab/gguf/reader.h"
#include "quantlab/util/result.h"

namespace quantlab {

// Errors name the file, then the tensor or metadata key, what it holds and what was expected.
Status CheckModelFile(const GgufFile& file);

// The tokenizer part alone, for code that builds a tokenizer from metadata without a file.
// Errors name the key, e.g. "tokenizer.ggml.scores: an array of u8, expected an array of f32".
Status CheckTokenizerMetadata(const GgufMetadata& metadata);

}  // namespace quantlab
