#include "quantlab/gguf/reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "gguf/gguf_builder.h"
#include "quantlab/gguf/summary.h"
#include "support/paths.h"

namespace quantlab {
namespace {

using testing::GgufBytes;

// One key of every value type, including an array of arrays.
GgufBytes AllValueTypesFile(uint32_t version) {
  GgufBytes b;
  b.Header(0, 15, version);
  b.Key("u8", 0).U8(200);
  b.Key("i8", 1).Put<int8_t>(-100);
  b.Key("u16", 2).Put<uint16_t>(60000);
  b.Key("i16", 3).Put<int16_t>(-30000);
  b.Key("u32", 4).U32(4000000000u);
  b.Key("i32", 5).I32(-2000000000);
  b.Key("f32", 6).F32(0.25f);
  b.Key("bool", 7).U8(1);
  b.Key("str", 8).Str("héllo");
  b.Key("u64", 10).U64(uint64_t{1} << 63);
  b.Key("i64", 11).I64(-(int64_t{1} << 62));
  b.Key("f64", 12).Put<double>(-1.5e300);
  b.Key("arr.f32", 9).U32(6).U64(3).F32(1).F32(2).F32(3);
  b.Key("arr.str", 9).U32(8).U64(2).Str("a").Str("");
  b.Key("arr.nested", 9).U32(9).U64(2).U32(5).U64(2).I32(7).I32(-8).U32(8).U64(1).Str("x");
  return b;
}

TEST(ReaderTest, ReadsEveryValueType) {
  for (uint32_t version : {2u, 3u}) {
    GgufBytes b = AllValueTypesFile(version);
    auto file = ParseGguf(b.span(), "all.gguf");
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(file->version(), version);
    const GgufMetadata& m = file->metadata();
    ASSERT_EQ(m.size(), 15u);
    EXPECT_EQ(m.entries()[0].first, "u8");  // file order kept
    EXPECT_EQ(m.entries()[14].first, "arr.nested");
    EXPECT_EQ(m.Find("u8")->type, GgufValueType::kUint8);
    EXPECT_EQ(*m.GetUint("u8"), 200u);
    EXPECT_EQ(*m.GetInt("i8"), -100);
    EXPECT_EQ(*m.GetUint("u16"), 60000u);
    EXPECT_EQ(*m.GetInt("i16"), -30000);
    EXPECT_EQ(*m.GetUint("u32"), 4000000000u);
    EXPECT_EQ(*m.GetInt("i32"), -2000000000);
    EXPECT_EQ(*m.GetFloat("f32"), 0.25);
    EXPECT_EQ(*m.GetBool("bool"), true);
    EXPECT_EQ(*m.GetString("str"), "héllo");
    EXPECT_EQ(*m.GetUint("u64"), uint64_t{1} << 63);
    EXPECT_FALSE(m.GetInt("u64").has_value()) << "2^63 does not fit int64";
    EXPECT_EQ(*m.GetInt("i64"), -(int64_t{1} << 62));
    EXPECT_EQ(*m.GetFloat("f64"), -1.5e300);
    const GgufArray* floats = m.GetArray("arr.f32");
    ASSERT_NE(floats, nullptr);
    EXPECT_EQ(floats->element_type, GgufValueType::kFloat32);
    ASSERT_EQ(floats->items.size(), 3u);
    EXPECT_EQ(*floats->items[2].AsFloat(), 3.0);
    const GgufArray* strings = m.GetArray("arr.str");
    ASSERT_EQ(strings->items.size(), 2u);
    EXPECT_EQ(*strings->items[1].AsString(), "");
    const GgufArray* nested = m.GetArray("arr.nested");
    ASSERT_EQ(nested->items.size(), 2u);
    EXPECT_EQ(nested->element_type, GgufValueType::kArray);
    EXPECT_EQ(*nested->items[0].AsArray()->items[1].AsInt(), -8);
    EXPECT_EQ(*nested->items[1].AsArray()->items[0].AsString(), "x");
    EXPECT_TRUE(file->tensors().empty());
  }
}

TEST(ReaderTest, TensorsAlignmentAndData) {
  GgufBytes b;
  b.Header(3, 1).KvU32("general.alignment", 64);
  b.TensorInfo("a", {4}, 0, 0);        // 16 bytes of f32
  b.TensorInfo("b", {32, 2}, 8, 64);   // 2 q8_0 blocks = 68 bytes
  b.TensorInfo("scalar", {}, 0, 192);  // no dimensions: one element
  b.PadTo(64).Mark("data");
  for (int i = 0; i < 4; ++i) b.F32(static_cast<float>(i) + 0.5f);
  b.PadTo(64).Fill(68, 0x42).PadTo(64).F32(9.0f).PadTo(64);
  auto file = ParseGguf(b.span(), "t.gguf");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset(), b.mark("data"));
  EXPECT_EQ(file->data_offset() % 64, 0u);
  EXPECT_EQ(file->file_size(), b.size());
  ASSERT_EQ(file->tensors().size(), 3u);

  const GgufTensorInfo* a = file->FindTensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, GgmlType::kF32);
  EXPECT_EQ(a->n_bytes, 16u);
  EXPECT_EQ(a->n_elements(), 4);
  float values[4];
  std::memcpy(values, file->TensorData(*a).data(), 16);
  EXPECT_EQ(values[3], 3.5f);

  const GgufTensorInfo* q = file->FindTensor("b");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, GgmlType::kQ8_0);
  EXPECT_EQ(q->n_bytes, 68u);
  EXPECT_EQ(q->n_rows(), 2);
  EXPECT_EQ(q->row_length(), 32);
  const auto data = file->TensorData(*q);
  ASSERT_EQ(data.size(), 68u);
  EXPECT_EQ(data[0], std::byte{0x42});
  EXPECT_EQ(data.data(), b.span().data() + b.mark("data") + 64)
      << "tensor data must point into the bytes, not a copy";

  const GgufTensorInfo* scalar = file->FindTensor("scalar");
  ASSERT_NE(scalar, nullptr);
  EXPECT_EQ(scalar->n_elements(), 1);
  EXPECT_EQ(scalar->n_bytes, 4u);
  EXPECT_EQ(file->FindTensor("missing"), nullptr);
}

TEST(ReaderTest, OutOfOrderAndGappedOffsetsAreAccepted) {
  // The format only requires aligned, in-bounds, non-overlapping data; llama.cpp's own writer happens to
  // lay tensors out in order, but others need not.
  GgufBytes b;
  b.Header(2, 0).TensorInfo("late", {8}, 0, 96).TensorInfo("early", {8}, 0, 0).PadTo(32).Fill(128, 1);
  auto file = ParseGguf(b.span(), "gap.gguf");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->FindTensor("late")->offset, 96u);
}

TEST(ReaderTest, ZeroSizedTensorsDoNotOverlap) {
  GgufBytes b;
  b.Header(2, 0).TensorInfo("empty", {0, 4}, 0, 0).TensorInfo("w", {8}, 0, 0).PadTo(32).Fill(32, 1);
  auto file = ParseGguf(b.span(), "z.gguf");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->FindTensor("empty")->n_bytes, 0u);
}

TEST(ReaderTest, TypesQuantlabCannotComputeAreReadAndReportedAsUnsupported) {
  GgufBytes b;
  b.Header(2, 0).TensorInfo("tq1", {256, 2}, 34, 0).TensorInfo("tq2", {256}, 35, 160).PadTo(32).Fill(256, 0);
  auto file = ParseGguf(b.span(), "tq.gguf");
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->FindTensor("tq1")->type, GgmlType::kTQ1_0);
  EXPECT_EQ(file->FindTensor("tq1")->n_bytes, 2u * 54);
  EXPECT_EQ(file->FindTensor("tq2")->n_bytes, 66u);
  const GgufSummary summary = SummarizeGguf(*file);
  EXPECT_EQ(summary.unsupported_types, (std::vector<std::string>{"tq1_0", "tq2_0"}));
  EXPECT_NE(RenderSummaryText(summary).find("unsupported     tq1_0, tq2_0"), std::string::npos);
}

TEST(ReaderTest, OpenMapsFileAndNamesPathInErrors) {
  testing::TempDir dir;
  GgufBytes b = AllValueTypesFile(3);
  const auto path = dir / "m.gguf";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.span().data()), static_cast<std::streamsize>(b.size()));
  auto file = GgufFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->path(), path.string());
  EXPECT_EQ(file->metadata().size(), 15u);
  // Moving keeps the mapping alive.
  GgufFile moved = std::move(file).value();
  EXPECT_EQ(*moved.metadata().GetString("str"), "héllo");

  auto missing = GgufFile::Open((dir / "nope.gguf").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.gguf"), std::string::npos);

  const auto bad = dir / "bad.gguf";
  std::ofstream(bad, std::ios::binary) << "GGUF\x01";
  auto broken = GgufFile::Open(bad.string());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find(bad.string() + ": at byte 4"), std::string::npos)
      << broken.error().message;
}

}  // namespace
}  // namespace quantlab
