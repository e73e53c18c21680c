// Reading llama.cpp's legacy binary imatrix files, byte layouts built by hand from the format that
// llama-imatrix writes (examples/imatrix/imatrix.cpp at c392e509).
#include "quantlab/quant/imatrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "support/paths.h"

namespace quantlab {
namespace {

class ImatrixBytes {
 public:
  ImatrixBytes& I32(int32_t v) {
    Append(&v, 4);
    return *this;
  }
  ImatrixBytes& F32(float v) {
    Append(&v, 4);
    return *this;
  }
  ImatrixBytes& Str(const std::string& s) {
    Append(s.data(), s.size());
    return *this;
  }
  // One entry: name, ncall, values.
  ImatrixBytes& Entry(const std::string& name, int32_t ncall, const std::vector<float>& values) {
    I32(static_cast<int32_t>(name.size())).Str(name).I32(ncall).I32(static_cast<int32_t>(values.size()));
    for (float v : values) F32(v);
    return *this;
  }
  std::vector<uint8_t> bytes;

 private:
  void Append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
};

TEST(Imatrix, ParsesEntriesDividesByCallsAndReadsTrailer) {
  ImatrixBytes f;
  f.I32(2)
      .Entry("blk.0.attn_q.weight", 4, {4.0f, 2.0f, 1.0f, 0.0f})
      .Entry("blk.0.ffn_down.weight", 0, {3.0f, 5.0f})
      .I32(123)
      .I32(9)
      .Str("wiki.test");
  auto m = ParseImatrix(f.bytes, "test.dat");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->entries.size(), 2u);
  const auto* q = m->Find("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(*q, (std::vector<float>{1.0f, 0.5f, 0.25f, 0.0f}));
  // ncall 0: values kept as stored (llama-quantize divides only when ncall > 0).
  EXPECT_EQ(*m->Find("blk.0.ffn_down.weight"), (std::vector<float>{3.0f, 5.0f}));
  EXPECT_EQ(m->Find("output.weight"), nullptr);
  EXPECT_EQ(m->chunks, 123);
  EXPECT_EQ(m->dataset, "wiki.test");
}

TEST(Imatrix, DivisionIsInFloatLikeLlamaQuantize) {
  // 1/3 in float differs from (double)1/3 rounded: the value must be float(1.0f / 3).
  ImatrixBytes f;
  f.I32(1).Entry("t", 3, {1.0f, 0.7f});
  auto m = ParseImatrix(f.bytes, "t.dat");
  ASSERT_TRUE(m.ok());
  const float third = 1.0f / 3;
  const float v = 0.7f / 3;
  EXPECT_EQ((*m->Find("t"))[0], third);
  EXPECT_EQ((*m->Find("t"))[1], v);
  EXPECT_EQ(m->chunks, -1) << "no trailer";
}

TEST(Imatrix, NameStopsAtNulLikeACString) {
  ImatrixBytes f;
  f.I32(1).I32(6).Str(std::string("ab\0cde", 6)).I32(1).I32(1).F32(2.0f);
  auto m = ParseImatrix(f.bytes, "t.dat");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_NE(m->Find("ab"), nullptr);
}

void ExpectError(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto m = ParseImatrix(bytes, "bad.dat");
  ASSERT_FALSE(m.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(m.error().message.find("bad.dat"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find(needle), std::string::npos) << m.error().message;
}

TEST(Imatrix, MalformedFilesGiveClearErrors) {
  ExpectError({}, "file ends while reading the entry count");
  ExpectError(ImatrixBytes().I32(0).bytes, "entry count is 0");
  ExpectError(ImatrixBytes().I32(-5).bytes, "entry count is -5");
  ExpectError(ImatrixBytes().I32(1).I32(-1).bytes, "name length -1");
  ExpectError(ImatrixBytes().I32(1).I32(100).Str("short").bytes, "name length 100 is impossible");
  ExpectError(ImatrixBytes().I32(1).I32(1).Str("a").I32(1).bytes, "value count");
  ExpectError(ImatrixBytes().I32(1).I32(1).Str("a").I32(1).I32(0).bytes, "value count 0");
  ExpectError(ImatrixBytes().I32(1).I32(1).Str("a").I32(1).I32(3).F32(1).bytes, "3 values announced");
  ExpectError(ImatrixBytes().I32(2).Entry("a", 1, {1.0f}).bytes, "entry 2 of 2");
  ExpectError(ImatrixBytes().I32(1).Entry("a", 1, {std::numeric_limits<float>::quiet_NaN()}).bytes,
              "must be finite");
  ExpectError(ImatrixBytes().I32(1).Entry("a", 1, {-1.0f}).bytes, "must be finite and >= 0");
  ExpectError(ImatrixBytes().I32(1).Entry("a", 1, {1.0f}).I32(5).bytes, "trailer's dataset name length");
  ExpectError(ImatrixBytes().I32(1).Entry("a", 1, {1.0f}).I32(5).I32(50).Str("x").bytes,
              "dataset name length 50");
  ExpectError(ImatrixBytes().I32(1).Entry("a", 1, {1.0f}).I32(5).I32(1).Str("xyz").bytes, "unexpected bytes");
}

TEST(Imatrix, ErrorsNameTheEntryAndOffset) {
  auto m = ParseImatrix(ImatrixBytes().I32(1).I32(3).Str("abc").I32(1).I32(2).F32(1).bytes, "bad.dat");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("'abc'"), std::string::npos) << m.error().message;
  EXPECT_NE(m.error().message.find("offset"), std::string::npos) << m.error().message;
}

TEST(Imatrix, FileRoundTripAndMissingFile) {
  testing::TempDir dir;
  ImportanceMatrix m;
  m.entries["blk.1.ffn_up.weight"] = {0.5f, 1.5f, 2.5f};
  m.entries["output.weight"] = {7.0f};
  m.chunks = 10;
  m.dataset = "calib.txt";
  ASSERT_TRUE(WriteImatrixFile(dir / "m.dat", m).ok());
  auto back = ReadImatrixFile(dir / "m.dat");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->entries, m.entries);
  EXPECT_EQ(back->chunks, 10);
  EXPECT_EQ(back->dataset, "calib.txt");

  auto missing = ReadImatrixFile(dir / "nope.dat");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("nope.dat"), std::string::npos);
}

// The stored form keeps each entry's ncall, the values undivided and the file order, byte for byte.
TEST(Imatrix, StoredFormRoundTripsBytes) {
  ImatrixBytes b;
  b.I32(2).Entry("blk.0.ffn_down.weight", 30, {3.0f, 0.25f}).Entry("blk.0.attn_q.weight", 7, {1.0f});
  b.I32(30).I32(9).Str("calib.txt");
  auto dat = ParseImatrixDat(b.bytes, "mem");
  ASSERT_TRUE(dat.ok()) << dat.error().message;
  ASSERT_EQ(dat->entries.size(), 2u);
  EXPECT_EQ(dat->entries[0].name, "blk.0.ffn_down.weight");
  EXPECT_EQ(dat->entries[0].ncall, 30);
  EXPECT_EQ(dat->entries[0].values, (std::vector<float>{3.0f, 0.25f}));
  EXPECT_EQ(dat->entries[1].ncall, 7);
  EXPECT_EQ(dat->last_call, 30);
  EXPECT_EQ(dat->dataset, "calib.txt");

  testing::TempDir dir;
  ASSERT_TRUE(WriteImatrixDatFile(dir / "s.dat", *dat).ok());
  const std::string written = testing::ReadTestFile(dir / "s.dat");
  EXPECT_EQ(std::vector<uint8_t>(written.begin(), written.end()), b.bytes);
}

}  // namespace
}  // namespace quantlab
