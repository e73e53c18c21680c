// A small SentencePiece-style ("llama") vocabulary for synthetic models: <unk>, <s>, </s>, the 256 byte
// fallback tokens <0x00>..<0xFF>, then normal pieces (characters, '▁'-prefixed words, letter n-grams)
// with decreasing scores, so llama.cpp's SPM tokenizer (and quantlab's) can tokenize any text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quantlab {

// Token types as llama.cpp stores them in tokenizer.ggml.token_type.
enum class SpmTokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct SynthVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<SpmTokenType> types;
  int32_t unk_id = 0;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
};

// The smallest vocabulary: 3 special tokens + 256 byte tokens + '▁'.
inline constexpr int kMinSynthVocab = 3 + 256 + 1;

// Builds a deterministic vocabulary of exactly `n_vocab` (>= kMinSynthVocab) distinct tokens.
SynthVocab MakeSynthVocab(int n_vocab);

}  // namespace quantlab
