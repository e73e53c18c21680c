#include "quantlab/gguf/metadata.h"

#include <gtest/gtest.h>

#include "quantlab/gguf/file_type.h"

namespace quantlab {
namespace {

TEST(MetadataTest, SetKeepsOrderAndReplacesInPlace) {
  GgufMetadata m;
  m.Set("a", GgufValue::U32(1));
  m.Set("b", GgufValue::Str("x"));
  m.Set("c", GgufValue::Bool(true));
  m.Set("a", GgufValue::U32(9));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.entries()[0].first, "a");
  EXPECT_EQ(*m.GetUint("a"), 9u);
  EXPECT_TRUE(m.Remove("a"));
  EXPECT_FALSE(m.Remove("a"));
  EXPECT_EQ(m.entries()[0].first, "b");
  EXPECT_EQ(*m.GetString("b"), "x");  // index still right after removal
  EXPECT_EQ(*m.GetBool("c"), true);
  EXPECT_FALSE(m.Contains("a"));
}

TEST(MetadataTest, TypedViewsConvertOnlyWhenTheyFit) {
  EXPECT_EQ(GgufValue::I32(-1).AsUint(), std::nullopt);
  EXPECT_EQ(*GgufValue::I32(5).AsUint(), 5u);
  EXPECT_EQ(*GgufValue::U8(5).AsInt(), 5);
  EXPECT_EQ(GgufValue::U64(~uint64_t{0}).AsInt(), std::nullopt);
  EXPECT_EQ(*GgufValue::U32(3).AsFloat(), 3.0);
  EXPECT_EQ(GgufValue::Str("3").AsUint(), std::nullopt);
  EXPECT_EQ(GgufValue::F32(1).AsBool(), std::nullopt);
  EXPECT_EQ(GgufValue::U32(1).AsString(), nullptr);
  GgufMetadata m;
  EXPECT_EQ(m.GetUint("missing"), std::nullopt);
  EXPECT_EQ(m.GetArray("missing"), nullptr);
}

TEST(MetadataTest, DisplayStrings) {
  EXPECT_EQ(GgufValue::F32(1e-5f).ToDisplayString(), "1e-05");
  EXPECT_EQ(GgufValue::I16(-3).ToDisplayString(), "-3");
  EXPECT_EQ(GgufValue::Str("a\"b\n").ToDisplayString(), "\"a\\\"b\\n\"");
  std::vector<GgufValue> items;
  for (int i = 0; i < 20; ++i) items.push_back(GgufValue::I32(i));
  EXPECT_EQ(GgufValue::Array(GgufValueType::kInt32, items).ToDisplayString(3), "[0, 1, 2, ...] (20 i32)");
  EXPECT_EQ(GgufValueTypeName(GgufValueType::kFloat64), "f64");
}

TEST(FileTypeTest, NamesMatchLlamaCpp) {
  EXPECT_EQ(LlamaFileTypeName(15), "Q4_K - Medium");
  EXPECT_EQ(LlamaFileTypeName(0), "all F32");
  EXPECT_EQ(LlamaFileTypeName(1), "F16");
  EXPECT_EQ(LlamaFileTypeName(7), "Q8_0");
  EXPECT_EQ(LlamaFileTypeName(27), "IQ3_S mix - 3.66 bpw");
  EXPECT_EQ(LlamaFileTypeName(1024 + 18), "Q6_K (guessed)");
  EXPECT_EQ(LlamaFileTypeName(4), "unknown, may not work");  // retired id
  EXPECT_EQ(static_cast<uint32_t>(LlamaFileType::kMostlyBF16), 32u);
  EXPECT_EQ(static_cast<uint32_t>(LlamaFileType::kMostlyTQ2_0), 37u);
}

TEST(FileTypeTest, ParsesQuantizeNames) {
  EXPECT_EQ(LlamaFileTypeFromName("Q4_K_M"), LlamaFileType::kMostlyQ4_K_M);
  EXPECT_EQ(LlamaFileTypeFromName("q4_k"), LlamaFileType::kMostlyQ4_K_M);
  EXPECT_EQ(LlamaFileTypeFromName("Q3_K"), LlamaFileType::kMostlyQ3_K_M);
  EXPECT_EQ(LlamaFileTypeFromName("f32"), LlamaFileType::kAllF32);
  EXPECT_EQ(LlamaFileTypeFromName("Q2_K_S"), LlamaFileType::kMostlyQ2_K_S);
  EXPECT_EQ(LlamaFileTypeFromName("Q9_K"), std::nullopt);
  for (const auto& info : AllLlamaFileTypes()) {
    EXPECT_EQ(LlamaFileTypeFromName(info.short_name), info.type) << info.short_name;
  }
}

}  // namespace
}  // namespace quantlab
