// Builders of tokenizer metadata for tests: a vocabulary written in the test, turned into the
// tokenizer.ggml.* keys a GGUF file would carry.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "quantlab/gguf/metadata.h"
#include "quantlab/model/tokenizer.h"
#include "support/paths.h"

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

// Reading llama.cpp-style test files: inputs separated by "\n__ggml_vocab_test__\n", one line of
// space-separated ids per input.

// Inputs separated by "\n__ggml_vocab_test__\n" (llama.cpp's .inp format).
inline std::vector<std::string> ReadInputs(const std::filesystem::path& path) {
  const std::string raw = ReadTestFile(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (size_t pos = 0; pos < raw.size();) {
    const size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      inputs.push_back(raw.substr(pos));
      break;
    }
    inputs.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  return inputs;
}

inline std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::istringstream in(ReadTestFile(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline std::vector<int32_t> ParseIds(const std::string& line) {
  std::vector<int32_t> ids;
  std::istringstream in(line);
  for (int32_t id; in >> id;) ids.push_back(id);
  return ids;
}

inline std::string Hex(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

inline std::string Printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text)
    out += (c < 0x20 || c == 0x7F) ? fmt::format("\\x{:02x}", c) : std::string(1, c);
  return out;
}

inline std::string Join(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += fmt::format(" {}", id);
  return out;
}

}  // namespace quantlab::testing
