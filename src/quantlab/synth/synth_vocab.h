// Small vocabularies for synthetic models. A SentencePiece-style ("llama") one: <unk>, <s>, </s>, the
// 256 byte fallback tokens <0x00>..<0xFF>, then normal pieces (characters, '▁'-prefixed words, letter
// n-grams) with decreasing scores, so llama.cpp's SPM tokenizer (and quantlab's) can tokenize any text;
// and byte-level BPE ones in Llama 3's and Qwen's style (MakeSynthBpeVocab).
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

// A small byte-level BPE ("gpt2") vocabulary as Llama 3's and Qwen's converters write theirs: the 256 byte
// symbols (GPT-2's byte-to-character map) first, then the tokens of `merges` in rank order (common words,
// with and without the 'Ġ' space mark, built up a letter at a time, then letter pairs), then the special
// tokens as control tokens.
struct SynthBpeVocab {
  std::vector<std::string> tokens;
  std::vector<SpmTokenType> types;  // llama.cpp's token types (kNormal, kControl)
  std::vector<std::string> merges;  // "left right", rank order
  int32_t bos_id = -1;
  int32_t eos_id = -1;
};

// Special tokens of each flavour: llama3 <|begin_of_text|> (BOS), <|end_of_text|> (EOS); qwen2
// <|endoftext|> (BOS and EOS id as Qwen's files name it), <|im_start|>, <|im_end|>.
enum class SynthBpeFlavor { kLlama3, kQwen2 };

// The smallest BPE vocabulary: 256 byte symbols, the special tokens and a few merges.
inline constexpr int kMinSynthBpeVocab = 256 + 3 + 16;

// Exactly `n_vocab` (>= kMinSynthBpeVocab) distinct tokens.
SynthBpeVocab MakeSynthBpeVocab(int n_vocab, SynthBpeFlavor flavor);

}  // namespace quantlab
