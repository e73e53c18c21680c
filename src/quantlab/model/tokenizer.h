// Text <-> token ids from a GGUF file's tokenizer.* metadata, giving the same ids as llama.cpp.
//
// Two families are supported:
//   - SentencePiece-style ("tokenizer.ggml.model" = "llama"): pieces with scores, merged greedily by
//     score; spaces become U+2581; unknown bytes fall back to <0xXX> tokens.
//   - Byte-level BPE ("gpt2"): bytes mapped to printable code points, text first split by the
//     pre-tokenizer named in "tokenizer.ggml.pre" (llama3, qwen2, gpt2 default), then merged by rank.
//
// A Tokenizer is immutable after construction and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quantlab/gguf/metadata.h"
#include "quantlab/util/result.h"

namespace quantlab {

// Per-token attribute as stored in "tokenizer.ggml.token_type".
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class TokenizerKind { kSpm, kBpe };

class TokenizerImpl;

class Tokenizer {
 public:
  // Builds the tokenizer from "tokenizer.ggml.*" keys. Errors name the missing/invalid key.
  static Result<Tokenizer> FromGguf(const GgufMetadata& metadata);
  // Opens the GGUF file at `path` and builds the tokenizer from its metadata (errors name the file).
  static Result<Tokenizer> FromFile(const std::string& path);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  Tokenizer(const Tokenizer&);
  Tokenizer& operator=(const Tokenizer&);
  ~Tokenizer();

  // Tokenizes `text`. With `add_special`, BOS is prepended when the file's add_bos flag is set and
  // EOS appended when its add_eos flag is set (as llama.cpp's llama_tokenize does). With
  // `parse_special`, control token texts that occur in `text` (e.g. "<s>", "<|eot_id|>") become those
  // tokens instead of being tokenized as plain text; user-defined tokens are recognized always.
  std::vector<int32_t> Encode(std::string_view text, bool add_special, bool parse_special = false) const;

  // The bytes this token stands for when printed: U+2581 -> ' ' (SPM), byte tokens -> that byte,
  // byte-level BPE code points -> raw bytes; control and unknown tokens -> "" unless `special`, then
  // their text (llama.cpp's llama_token_to_piece). Out-of-range ids give "".
  std::string TokenToPiece(int32_t id, bool special = false) const;

  // Concatenation of TokenToPiece, with the leading space of the first piece removed when the
  // vocabulary adds a space prefix, and for most BPE vocabularies " ." " ," " !" " ?" " 's" ... cleaned
  // up (llama.cpp's llama_detokenize without special tokens).
  std::string Decode(std::span<const int32_t> ids) const;

  // The raw vocabulary entry (e.g. "▁the", "<0x0A>", "Ġthe").
  const std::string& TokenText(int32_t id) const;
  TokenType GetTokenType(int32_t id) const;
  float TokenScore(int32_t id) const;

  TokenizerKind kind() const;
  int32_t n_vocab() const;
  int32_t bos() const;  // -1 when the vocabulary has none
  int32_t eos() const;  // -1 when the vocabulary has none
  int32_t unk() const;  // -1 when the vocabulary has none
  bool add_bos() const;
  bool add_eos() const;
  // End of generation: EOS, EOT, EOM and the other end tokens llama.cpp recognizes.
  bool IsEog(int32_t id) const;

 private:
  explicit Tokenizer(std::shared_ptr<const TokenizerImpl> impl);
  std::shared_ptr<const TokenizerImpl> impl_;
};

}  // namespace quantlab
