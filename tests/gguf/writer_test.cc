#include "quantlab/gguf/writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "gguf/gguf_builder.h"
#include "quantlab/gguf/reader.h"
#include "support/paths.h"

namespace quantlab {
namespace {

using testing::GgufBytes;

size_t CountEntries(const std::filesystem::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// A producer filling bytes with (seed + i) % 251.
TensorProducer Pattern(int seed) {
  return [seed](std::span<std::byte> dst) {
    for (size_t i = 0; i < dst.size(); ++i) dst[i] = static_cast<std::byte>((seed + i) % 251);
    return Ok();
  };
}

GgufMetadata SampleMetadata() {
  GgufMetadata m;
  m.Set("general.architecture", GgufValue::Str("llama"));
  m.Set("u8", GgufValue::U8(7));
  m.Set("i8", GgufValue::I8(-7));
  m.Set("u16", GgufValue::U16(65535));
  m.Set("i16", GgufValue::I16(-32768));
  m.Set("u32", GgufValue::U32(123456));
  m.Set("i32", GgufValue::I32(-123456));
  m.Set("u64", GgufValue::U64(~uint64_t{0}));
  m.Set("i64", GgufValue::I64(-1));
  m.Set("f32", GgufValue::F32(1e-5f));
  m.Set("f64", GgufValue::F64(3.141592653589793));
  m.Set("bool", GgufValue::Bool(false));
  m.Set("tokens", GgufValue::Array(GgufValueType::kString, {GgufValue::Str("<s>"), GgufValue::Str("▁a")}));
  m.Set("nested",
        GgufValue::Array(GgufValueType::kArray,
                         {GgufValue::Array(GgufValueType::kInt32, {GgufValue::I32(1), GgufValue::I32(2)})}));
  return m;
}

TEST(WriterTest, WritesAndReadsBackMetadataAndTensors) {
  testing::TempDir dir;
  const auto path = dir / "w.gguf";
  GgufWriter writer(SampleMetadata());
  writer.AddTensor({"a", {5}, GgmlType::kF32, Pattern(1)});           // 20 bytes
  writer.AddTensor({"q", {256, 3}, GgmlType::kQ4_K, Pattern(2)});     // 3 * 144 bytes
  writer.AddTensor({"h", {2, 3, 4, 5}, GgmlType::kF16, Pattern(3)});  // 240 bytes
  std::vector<std::pair<size_t, size_t>> progress;
  writer.OnTensorWritten([&](size_t i, size_t n) {
    progress.emplace_back(i, n);
    return true;
  });
  ASSERT_TRUE(writer.WriteTo(path.string()).ok());
  EXPECT_EQ(progress, (std::vector<std::pair<size_t, size_t>>{{1, 3}, {2, 3}, {3, 3}}));

  auto file = GgufFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 32u);
  const GgufMetadata& m = file->metadata();
  const GgufMetadata expected = SampleMetadata();
  ASSERT_EQ(m.size(), expected.size());
  for (size_t i = 0; i < m.size(); ++i) {
    EXPECT_EQ(m.entries()[i].first, expected.entries()[i].first);
    EXPECT_EQ(m.entries()[i].second.type, expected.entries()[i].second.type);
    EXPECT_EQ(m.entries()[i].second.ToDisplayString(), expected.entries()[i].second.ToDisplayString());
  }
  EXPECT_EQ(*m.GetUint("u64"), ~uint64_t{0});
  EXPECT_EQ(*m.GetFloat("f32"), static_cast<double>(1e-5f));
  EXPECT_EQ(*m.GetArray("nested")->items[0].AsArray()->items[1].AsInt(), 2);

  ASSERT_EQ(file->tensors().size(), 3u);
  uint64_t expected_offset = 0;
  int seed = 1;
  for (const GgufTensorInfo& t : file->tensors()) {
    EXPECT_EQ(t.offset, expected_offset) << t.name;
    EXPECT_EQ(t.offset % 32, 0u);
    const auto data = file->TensorData(t);
    for (size_t i = 0; i < data.size(); ++i) {
      ASSERT_EQ(data[i], static_cast<std::byte>((seed + i) % 251)) << t.name << " byte " << i;
    }
    expected_offset += (t.n_bytes + 31) / 32 * 32;
    ++seed;
  }
  EXPECT_EQ(file->FindTensor("h")->shape, (std::vector<int64_t>{2, 3, 4, 5}));
  EXPECT_EQ(file->FindTensor("q")->n_bytes, 432u);
  // Every tensor, the last included, is padded to the alignment, as ggml writes files.
  EXPECT_EQ(file->file_size(), file->data_offset() + expected_offset);
}

TEST(WriterTest, HonoursGeneralAlignment) {
  testing::TempDir dir;
  for (uint32_t alignment : {1u, 8u, 64u, 4096u}) {
    GgufMetadata m;
    m.Set("general.alignment", GgufValue::U32(alignment));
    GgufWriter writer(m);
    writer.AddTensor({"a", {3}, GgmlType::kF32, Pattern(0)});
    writer.AddTensor({"b", {7}, GgmlType::kF16, Pattern(0)});
    const auto path = dir / "a.gguf";
    ASSERT_TRUE(writer.WriteTo(path.string()).ok());
    auto file = GgufFile::Open(path.string());
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(file->alignment(), alignment);
    EXPECT_EQ(file->data_offset() % alignment, 0u);
    EXPECT_EQ(file->FindTensor("b")->offset, (12 + alignment - 1) / alignment * alignment);
    EXPECT_EQ(file->file_size() % alignment, 0u);
  }
}

TEST(WriterTest, RoundTripIsByteIdentical) {
  testing::TempDir dir;
  const auto first = dir / "first.gguf";
  GgufWriter writer(SampleMetadata());
  writer.AddTensor({"a", {5}, GgmlType::kF32, Pattern(1)});
  writer.AddTensor({"q", {32, 2}, GgmlType::kQ8_0, Pattern(2)});
  ASSERT_TRUE(writer.WriteTo(first.string()).ok());

  auto file = GgufFile::Open(first.string());
  ASSERT_TRUE(file.ok());
  const auto second = dir / "second.gguf";
  ASSERT_TRUE(MakeWriterFromFile(*file).WriteTo(second.string()).ok());
  EXPECT_EQ(testing::ReadTestFile(first), testing::ReadTestFile(second));
}

TEST(WriterTest, VersionTwoIsRewrittenAsThreeWithSameLayout) {
  GgufBytes b;
  b.Header(1, 1, 2).KvStr("general.name", "old").TensorInfo("w", {8}, 0, 0).PadTo(32).Fill(32, 7);
  auto file = ParseGguf(b.span(), "v2.gguf");
  ASSERT_TRUE(file.ok()) << file.error().message;
  testing::TempDir dir;
  ASSERT_TRUE(MakeWriterFromFile(*file).WriteTo((dir / "v3.gguf").string()).ok());
  std::string expected = b.str();
  expected[4] = 3;
  EXPECT_EQ(testing::ReadTestFile(dir / "v3.gguf"), expected);
}

TEST(WriterTest, NoTensorsPaddingFollowsTheInput) {
  testing::TempDir dir;
  for (bool padded : {false, true}) {
    GgufBytes b;
    b.Header(0, 1).KvStr("k", "v");  // 24 + 8+1 + 4 + 8+1 = 46 bytes
    if (padded) b.PadTo(32);
    auto file = ParseGguf(b.span(), "x.gguf");
    ASSERT_TRUE(file.ok());
    const auto out = dir / "x.gguf";
    ASSERT_TRUE(MakeWriterFromFile(*file).WriteTo(out.string()).ok());
    EXPECT_EQ(testing::ReadTestFile(out), b.str()) << "padded=" << padded;
  }
}

TEST(WriterTest, ProducerIsCalledOncePerTensorInOrderWithExactSize) {
  testing::TempDir dir;
  std::vector<std::pair<std::string, size_t>> calls;
  GgufWriter writer{GgufMetadata()};
  for (const char* name : {"x", "y", "z"}) {
    writer.AddTensor({name, {32, 4}, GgmlType::kQ4_0, [&calls, name](std::span<std::byte> dst) {
                        calls.emplace_back(name, dst.size());
                        return Ok();
                      }});
  }
  ASSERT_TRUE(writer.WriteTo((dir / "p.gguf").string()).ok());
  EXPECT_EQ(calls, (std::vector<std::pair<std::string, size_t>>{{"x", 72}, {"y", 72}, {"z", 72}}));
}

// Each failure: an error naming the problem, no file under the final name, no temporary left behind, and
// an earlier file at the path untouched.
void ExpectFailsCleanly(GgufWriter& writer, const std::string& problem) {
  testing::TempDir dir;
  const auto path = dir / "out.gguf";
  std::ofstream(path) << "previous";
  Status status = writer.WriteTo(path.string());
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find(problem), std::string::npos) << status.error().message;
  EXPECT_NE(status.error().message.find("out.gguf"), std::string::npos) << status.error().message;
  EXPECT_EQ(testing::ReadTestFile(path), "previous");
  EXPECT_EQ(CountEntries(dir.path()), 1u);
}

TEST(WriterTest, FailingProducerLeavesNoFile) {
  GgufWriter writer{GgufMetadata()};
  writer.AddTensor({"ok", {64}, GgmlType::kF32, Pattern(0)});
  writer.AddTensor({"broken", {64}, GgmlType::kF32, [](std::span<std::byte>) -> Status {
                      return MakeError("source tensor unreadable");
                    }});
  ExpectFailsCleanly(writer, "tensor 'broken': source tensor unreadable");
}

TEST(WriterTest, InvalidInputsAreRejected) {
  {
    GgufWriter w{GgufMetadata()};
    w.AddTensor({"t", {8}, GgmlType::kF32, Pattern(0)});
    w.AddTensor({"t", {8}, GgmlType::kF32, Pattern(0)});
    ExpectFailsCleanly(w, "duplicate tensor name 't'");
  }
  {
    GgufWriter w{GgufMetadata()};
    w.AddTensor({"q", {33}, GgmlType::kQ4_0, Pattern(0)});
    ExpectFailsCleanly(w, "tensor 'q': row length 33 is not a multiple of the q4_0 block size 32");
  }
  {
    GgufWriter w{GgufMetadata()};
    w.AddTensor({std::string(64, 'n'), {8}, GgmlType::kF32, Pattern(0)});
    ExpectFailsCleanly(w, "name is 64 bytes, at most 63 allowed");
  }
  {
    GgufWriter w{GgufMetadata()};
    w.AddTensor({"five", {1, 1, 1, 1, 1}, GgmlType::kF32, Pattern(0)});
    ExpectFailsCleanly(w, "tensor 'five': 5 dimensions");
  }
  {
    GgufMetadata m;
    m.Set("general.alignment", GgufValue::U32(24));
    GgufWriter w(m);
    ExpectFailsCleanly(w, "general.alignment must be a power of two");
  }
  {
    GgufMetadata m;
    m.Set("mixed", GgufValue::Array(GgufValueType::kInt32, {GgufValue::I32(1), GgufValue::Str("x")}));
    GgufWriter w(m);
    ExpectFailsCleanly(w, "metadata key 'mixed': array of i32 holds a str item");
  }
  {
    GgufMetadata m;
    m.Set("liar", GgufValue{GgufValueType::kUint32, std::string("not a number")});
    GgufWriter w(m);
    ExpectFailsCleanly(w, "metadata key 'liar': value does not match its type");
  }
  {
    GgufWriter w{GgufMetadata()};
    w.AddTensor({"nodata", {8}, GgmlType::kF32, nullptr});
    ExpectFailsCleanly(w, "tensor 'nodata' has no data producer");
  }
}

TEST(WriterTest, MissingFolderIsAnError) {
  GgufWriter w{GgufMetadata()};
  Status status = w.WriteTo("/nonexistent-dir/x.gguf");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("/nonexistent-dir/x.gguf"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
