#include "quantlab/gguf/model_checks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "quantlab/gguf/writer.h"
#include "support/paths.h"

namespace quantlab {
namespace {

GgufValue Strings(size_t n) {
  std::vector<GgufValue> items;
  for (size_t i = 0; i < n; ++i) items.push_back(GgufValue::Str("t" + std::to_string(i)));
  return GgufValue::Array(GgufValueType::kString, std::move(items));
}

GgufValue Filled(GgufValueType type, size_t n, GgufValue item) {
  return GgufValue::Array(type, std::vector<GgufValue>(n, item));
}

// A well-formed vocabulary of three tokens, as llama.cpp's converter writes it.
GgufMetadata Vocabulary() {
  GgufMetadata m;
  m.Set("tokenizer.ggml.tokens", Strings(3));
  m.Set("tokenizer.ggml.scores", Filled(GgufValueType::kFloat32, 3, GgufValue::F32(-1)));
  m.Set("tokenizer.ggml.token_type", Filled(GgufValueType::kInt32, 3, GgufValue::I32(1)));
  m.Set("tokenizer.ggml.merges", Strings(2));
  return m;
}

std::string ErrorOf(const Status& s) { return s.ok() ? "(ok)" : s.error().message; }

TEST(CheckTokenizerMetadata, AcceptsWhatTheConverterWritesAndAbsentArrays) {
  EXPECT_TRUE(CheckTokenizerMetadata(Vocabulary()).ok()) << ErrorOf(CheckTokenizerMetadata(Vocabulary()));
  EXPECT_TRUE(CheckTokenizerMetadata(GgufMetadata()).ok());  // no vocabulary: the consumer decides
  GgufMetadata no_scores = Vocabulary();
  no_scores.Remove("tokenizer.ggml.scores");
  no_scores.Remove("tokenizer.ggml.token_type");
  EXPECT_TRUE(CheckTokenizerMetadata(no_scores).ok());
}

TEST(CheckTokenizerMetadata, WrongElementTypeNamesKeyTypeAndExpectedType) {
  struct Case {
    const char* key;
    GgufValue value;
    const char* message;
  };
  const Case cases[] = {
      {"tokenizer.ggml.scores", Filled(GgufValueType::kUint8, 3, GgufValue::U8(1)),
       "tokenizer.ggml.scores: an array of u8, expected an array of f32"},
      {"tokenizer.ggml.scores", Filled(GgufValueType::kFloat64, 3, GgufValue::F64(1)),
       "tokenizer.ggml.scores: an array of f64, expected an array of f32"},
      {"tokenizer.ggml.scores", GgufValue::F32(0),
       "tokenizer.ggml.scores: a single f32, expected an array of f32"},
      {"tokenizer.ggml.token_type", Filled(GgufValueType::kUint8, 3, GgufValue::U8(1)),
       "tokenizer.ggml.token_type: an array of u8, expected an array of i32"},
      {"tokenizer.ggml.token_type", Filled(GgufValueType::kInt64, 3, GgufValue::I64(1)),
       "tokenizer.ggml.token_type: an array of i64, expected an array of i32"},
      {"tokenizer.ggml.tokens", Filled(GgufValueType::kInt32, 3, GgufValue::I32(1)),
       "tokenizer.ggml.tokens: an array of i32, expected an array of str"},
      {"tokenizer.ggml.merges", Filled(GgufValueType::kUint8, 2, GgufValue::U8(1)),
       "tokenizer.ggml.merges: an array of u8, expected an array of str"},
  };
  for (const Case& c : cases) {
    GgufMetadata m = Vocabulary();
    m.Set(c.key, c.value);
    EXPECT_EQ(ErrorOf(CheckTokenizerMetadata(m)), c.message);
  }
}

TEST(CheckTokenizerMetadata, OneScoreAndOneTypePerToken) {
  GgufMetadata short_scores = Vocabulary();
  short_scores.Set("tokenizer.ggml.scores", Filled(GgufValueType::kFloat32, 2, GgufValue::F32(0)));
  EXPECT_EQ(ErrorOf(CheckTokenizerMetadata(short_scores)),
            "tokenizer.ggml.scores: 2 entries for 3 tokens (one per token expected)");
  GgufMetadata long_types = Vocabulary();
  long_types.Set("tokenizer.ggml.token_type", Filled(GgufValueType::kInt32, 4, GgufValue::I32(1)));
  EXPECT_EQ(ErrorOf(CheckTokenizerMetadata(long_types)),
            "tokenizer.ggml.token_type: 4 entries for 3 tokens (one per token expected)");
  GgufMetadata more_merges = Vocabulary();
  more_merges.Set("tokenizer.ggml.merges", Strings(7));  // merges are not one per token
  EXPECT_TRUE(CheckTokenizerMetadata(more_merges).ok());
}

Result<GgufFile> WriteAndOpen(const std::string& path, std::vector<int64_t> extra_shape) {
  GgufWriter writer(Vocabulary());
  const auto zeros = [](std::span<std::byte> dst) {
    std::fill(dst.begin(), dst.end(), std::byte{0});
    return Ok();
  };
  writer.AddTensor({"a.weight", {32, 2}, GgmlType::kF32, zeros});
  writer.AddTensor({"b.weight", std::move(extra_shape), GgmlType::kF32, zeros});
  QL_RETURN_IF_ERROR(writer.WriteTo(path));
  return GgufFile::Open(path);
}

TEST(CheckModelFile, ZeroDimensionAnywhereIsAnErrorNamingFileAndTensor) {
  testing::TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  auto good = WriteAndOpen(path, {4});
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_TRUE(CheckModelFile(*good).ok()) << ErrorOf(CheckModelFile(*good));
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{0}, {0, 4}, {4, 0}, {4, 1, 0}}) {
    auto bad = WriteAndOpen(path, shape);
    ASSERT_TRUE(bad.ok()) << bad.error().message;  // valid GGUF: the fault is the model's
    const std::string message = ErrorOf(CheckModelFile(*bad));
    EXPECT_EQ(message.rfind(path + ": tensor 'b.weight' has shape [", 0), 0u) << message;
    EXPECT_NE(message.find("a dimension of 0"), std::string::npos) << message;
  }
}

TEST(CheckModelFile, TokenizerFaultsNameTheFile) {
  testing::TempDir dir;
  const std::string path = (dir / "m.gguf").string();
  GgufMetadata m = Vocabulary();
  m.Set("tokenizer.ggml.scores", Filled(GgufValueType::kUint8, 3, GgufValue::U8(1)));
  ASSERT_TRUE(GgufWriter(m).WriteTo(path).ok());
  auto file = GgufFile::Open(path);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ErrorOf(CheckModelFile(*file)),
            path + ": tokenizer.ggml.scores: an array of u8, expected an array of f32");
}

}  // namespace
}  // namespace quantlab
