// Internal state shared by the tokenizer's source files (tokenizer_load.cc builds it, tokenizer.cc,
// spm_tokenizer.cc and bpe_tokenizer.cc encode and decode with it). Not part of the public API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "quantlab/model/bpe_pretokenizer.h"
#include "quantlab/model/tokenizer.h"

namespace quantlab {

// Token attributes as bit flags (llama.cpp's llama_token_attr), derived from the GGUF token type and
// adjusted by name-based rules at load time.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,  // swallow whitespace before the token when it is matched in text
  kAttrRstrip = 1u << 8,  // swallow whitespace after it
};

struct TokenEntry {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
  uint32_t attr = kAttrNormal;
};

struct StringPairHash {
  size_t operator()(const std::pair<std::string, std::string>& p) const {
    const size_t h1 = std::hash<std::string>{}(p.first);
    return h1 ^ (std::hash<std::string>{}(p.second) + 0x9E3779B97F4A7C15ull + (h1 << 6) + (h1 >> 2));
  }
};

class TokenizerImpl {
 public:
  TokenizerKind kind = TokenizerKind::kSpm;
  BpePreTokenizerConfig pre;

  std::vector<TokenEntry> tokens;
  std::unordered_map<std::string, int32_t> token_to_id;
  std::unordered_map<std::pair<std::string, std::string>, int32_t, StringPairHash> merge_ranks;

  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;
  bool clean_spaces = false;
  std::set<int32_t> eog_ids;
  // Control, user-defined and unknown tokens, longest text first: the order in which their texts
  // are cut out of the input.
  std::vector<int32_t> special_tokens;

  // -1 when absent.
  int32_t Find(std::string_view text) const {
    auto it = token_to_id.find(std::string(text));
    return it == token_to_id.end() ? -1 : it->second;
  }
  // -1 when the pair is not a merge.
  int32_t MergeRank(const std::string& left, const std::string& right) const {
    auto it = merge_ranks.find({left, right});
    return it == merge_ranks.end() ? -1 : it->second;
  }
  bool Valid(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < tokens.size(); }

  std::vector<int32_t> Encode(std::string_view text, bool add_special, bool parse_special) const;
  std::string TokenToPiece(int32_t id, bool special) const;
  std::string Decode(std::span<const int32_t> ids) const;
};

// Reads the tokenizer.ggml.* keys (tokenizer_load.cc).
Result<std::shared_ptr<TokenizerImpl>> LoadTokenizerImpl(const GgufMetadata& metadata);

// Appends the SentencePiece tokens of `text` (already with spaces escaped to U+2581).
void EncodeSpm(const TokenizerImpl& vocab, std::string_view text, std::vector<int32_t>& out);
// Appends the byte-level BPE tokens of raw `text` (pre-tokenized here).
void EncodeBpe(const TokenizerImpl& vocab, std::string_view text, std::vector<int32_t>& out);

}  // namespace quantlab
