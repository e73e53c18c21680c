// Pre-tokenization for byte-level BPE: splits text into words before merges are applied, the way
// llama.cpp applies the regexes of each model family ("tokenizer.ggml.pre"). The regexes use Unicode
// classes (\p{L}, \p{N}) that std::regex cannot express, so each is matched by hand here, following
// ECMAScript (leftmost alternative, greedy with backtracking) semantics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/util/result.h"

namespace quantlab {

enum class BpePreTokenizer {
  // No "tokenizer.ggml.pre" (or "default"): punctuation runs, then the GPT-2 regex, then number runs,
  // then groups of three ASCII digits.
  kDefault,
  // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // Every \p{N} on its own, then the GPT-2 regex (starcoder, refact, smollm, ...).
  kDigitsThenGpt2,
  // Runs of \p{P} and $+<=>^~|`, then the GPT-2 regex, then groups of three ASCII digits.
  kFalcon,
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
  // \s*[\r\n]+|\s+(?!\S)|\s+
  kLlama3,
  // As kLlama3 but single digits: \p{N} instead of \p{N}{1,3}.
  kQwen2,
};

struct BpePreTokenizerConfig {
  BpePreTokenizer type = BpePreTokenizer::kDefault;
  // Flags llama.cpp ties to the pre-tokenizer name.
  bool ignore_merges = false;  // a word that is itself a vocabulary entry is emitted whole
  bool add_bos = false;        // default for add_bos when the file has no add_bos_token key
  bool clean_spaces = true;    // Decode drops the space before . , ! ? and some contractions
};

// Maps a "tokenizer.ggml.pre" value ("" when absent) to its splitter; unsupported names are an error
// that lists the supported ones.
Result<BpePreTokenizerConfig> BpePreTokenizerFromName(std::string_view name);

// Splits `text` into words, each re-encoded with the GPT-2 byte-to-code-point mapping (so a word is
// directly comparable with vocabulary entries). Malformed UTF-8 bytes become U+FFFD first.
std::vector<std::string> PreTokenizeBpe(std::string_view text, BpePreTokenizer type);

// The same split as code point lengths of consecutive pieces (exposed for tests).
std::vector<size_t> SplitCodepoints(const std::vector<uint32_t>& cps, BpePreTokenizer type);

}  // namespace quantlab
