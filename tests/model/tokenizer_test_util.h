// Builders of tokenizer metadata for tests: a vocabulary written in the test, turned into the
// tokenizer.ggml.* keys a GGUF file would carry.
#pragma once

#include <string>
#include <vector>

#include "quantlab/gguf/metadata.h"
#include "quantlab/model/tokenizer.h"

namespace quantlab::testing {

struct TestToken {
  std::string text;
  float score = 0.0f;
  TokenType type = TokenType::kNormal;
};

inline GgufMetadata VocabMetadata(const std::string& model, const std::vector<TestToken>& tokens) {
  std::vector<GgufValue> texts, scores, types;
  for (const TestToken& t : tokens) {
    texts.push_back(GgufValue::Str(t.text));
    scores.push_back(GgufValue::F32(t.score));
    types.push_back(GgufValue::I32(static_cast<int32_t>(t.type)));
  }
  GgufMetadata md;
  md.Set("general.architecture", GgufValue::Str("llama"));
  md.Set("tokenizer.ggml.model", GgufValue::Str(model));
  md.Set("tokenizer.ggml.tokens", GgufValue::Array(GgufValueType::kString, std::move(texts)));
  md.Set("tokenizer.ggml.scores", GgufValue::Array(GgufValueType::kFloat32, std::move(scores)));
  md.Set("tokenizer.ggml.token_type", GgufValue::Array(GgufValueType::kInt32, std::move(types)));
  return md;
}

inline void SetMerges(GgufMetadata& md, const std::vector<std::string>& merges) {
  std::vector<GgufValue> values;
  for (const std::string& m : merges) values.push_back(GgufValue::Str(m));
  md.Set("tokenizer.ggml.merges", GgufValue::Array(GgufValueType::kString, std::move(values)));
}

// SentencePiece layout: <unk>, <s>, </s>, <0x00>..<0xFF> (ids 3..258), then `pieces` from id 259.
inline std::vector<TestToken> SpmTokens(const std::vector<TestToken>& pieces) {
  std::vector<TestToken> tokens = {{"<unk>", 0.0f, TokenType::kUnknown},
                                   {"<s>", 0.0f, TokenType::kControl},
                                   {"</s>", 0.0f, TokenType::kControl}};
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    tokens.push_back({std::string("<0x") + kHex[b >> 4] + kHex[b & 15] + ">", 0.0f, TokenType::kByte});
  }
  tokens.insert(tokens.end(), pieces.begin(), pieces.end());
  return tokens;
}

inline constexpr int32_t kFirstPiece = 259;
inline int32_t ByteId(unsigned char b) { return 3 + b; }

}  // namespace quantlab::testing
