// One test per class of malformed input: each crafts the bytes, parses them, and checks that the error
// names the file, the byte offset and the problem.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "gguf/gguf_builder.h"
#include "quantlab/gguf/reader.h"

namespace quantlab {
namespace {

using testing::GgufBytes;

constexpr uint32_t kU8 = 0, kU32 = 4, kBool = 7, kString = 8, kArray = 9;
constexpr uint32_t kTypeF32 = 0, kTypeQ4_0 = 2, kTypeI64 = 27;

// Parses `bytes` expecting failure; checks the message names the file, "at byte <offset>", and `problem`.
void ExpectError(const GgufBytes& bytes, size_t offset, const std::string& problem) {
  auto result = ParseGguf(bytes.span(), "crafted.gguf");
  ASSERT_FALSE(result.ok()) << "parsed although " << problem;
  const std::string& message = result.error().message;
  EXPECT_EQ(message.rfind("crafted.gguf: ", 0), 0u) << message;
  EXPECT_NE(message.find("at byte " + std::to_string(offset) + ":"), std::string::npos)
      << "expected offset " << offset << " in: " << message;
  EXPECT_NE(message.find(problem), std::string::npos) << "expected '" << problem << "' in: " << message;
}

// A valid file with one F32 tensor of `n` floats at offset 0, used as a base for tensor-level breakage.
GgufBytes OneTensorFile(std::vector<int64_t> shape, uint32_t type, uint64_t offset, size_t data_bytes) {
  GgufBytes b;
  b.Header(1, 0).Mark("info").TensorInfo("w", std::move(shape), type, offset).Mark("end").PadTo(32);
  b.Fill(data_bytes, 0x11);
  return b;
}

TEST(ReaderMalformedTest, EmptyFile) {
  ExpectError(GgufBytes(), 0, "file truncated: the magic needs 4 bytes");
}

TEST(ReaderMalformedTest, BadMagic) {
  GgufBytes b;
  b.Raw("GGML").U32(3).U64(0).U64(0);
  ExpectError(b, 0, "not a GGUF file: magic is 'GGML'");
}

TEST(ReaderMalformedTest, UnsupportedVersions) {
  for (uint32_t version : {0u, 1u, 4u, 1000u}) {
    GgufBytes b;
    b.Header(0, 0, version);
    ExpectError(b, 4, "unsupported GGUF version " + std::to_string(version));
  }
}

TEST(ReaderMalformedTest, BigEndianFile) {
  GgufBytes b;
  b.Raw("GGUF").U32(0x03000000u).U64(0).U64(0);
  ExpectError(b, 4, "big-endian");
}

TEST(ReaderMalformedTest, TruncatedHeader) {
  GgufBytes b;
  b.Raw("GGUF").U32(3).U32(0);  // half a tensor count
  ExpectError(b, 8, "file truncated: the tensor count needs 8 bytes but only 4 remain");
}

TEST(ReaderMalformedTest, AbsurdTensorCountInSmallFile) {
  GgufBytes b;
  b.Header(uint64_t{1} << 62, 0).Fill(76, 0);  // a 100-byte file claiming 2^62 tensors
  ASSERT_EQ(b.size(), 100u);
  ExpectError(b, 8, "tensor count 4611686018427387904 is impossible");
}

TEST(ReaderMalformedTest, NegativeTensorCount) {
  GgufBytes b;
  b.Header(static_cast<uint64_t>(-1), 0);
  ExpectError(b, 8, "tensor count -1 is impossible");
}

TEST(ReaderMalformedTest, AbsurdKeyValueCount) {
  GgufBytes b;
  b.Header(0, 1000).Fill(76, 0);
  ExpectError(b, 16, "key/value count 1000 is impossible");
}

TEST(ReaderMalformedTest, KeyLengthPastEnd) {
  GgufBytes b;
  b.Header(0, 1).Mark("key").U64(uint64_t{1} << 40).Fill(20, 'a');
  ExpectError(b, b.mark("key"), "key of metadata entry 0 has length 1099511627776 but only 20 bytes remain");
}

TEST(ReaderMalformedTest, StringValueLengthPastEnd) {
  GgufBytes b;
  b.Header(0, 1).Key("general.name", kString).Mark("value").U64(500).Raw("short");
  ExpectError(b, b.mark("value"), "string value has length 500 but only 5 bytes remain");
}

TEST(ReaderMalformedTest, UnknownValueType) {
  GgufBytes b;
  b.Header(0, 1).Str("some.key").Mark("type").U32(13).U32(0);
  ExpectError(b, b.mark("type"), "value type of key 'some.key' is 13, not a known GGUF value type");
}

TEST(ReaderMalformedTest, UnknownArrayElementType) {
  GgufBytes b;
  b.Header(0, 1).Key("arr", kArray).Mark("elem").U32(77).U64(1).U32(0);
  ExpectError(b, b.mark("elem"), "array element type is 77, not a known GGUF value type");
}

TEST(ReaderMalformedTest, AbsurdArrayLengthDoesNotAllocate) {
  // A 100-byte file that claims an array of 2^61 u32 values: rejected before anything is reserved.
  GgufBytes b;
  b.Header(0, 1).Key("big", kArray).U32(kU32).Mark("count").U64(uint64_t{1} << 61);
  b.Fill(100 - b.size(), 0);
  ASSERT_EQ(b.size(), 100u);
  ExpectError(b, b.mark("count"), "key 'big': array of 2305843009213693952 u32 values needs at least");
}

TEST(ReaderMalformedTest, AbsurdStringArrayLength) {
  GgufBytes b;
  b.Header(0, 1).Key("tokenizer.ggml.tokens", kArray).U32(kString).Mark("count").U64(1000).Str("a").Str("b");
  ExpectError(b, b.mark("count"), "array of 1000 str values needs at least 8000 bytes but only 18 remain");
}

TEST(ReaderMalformedTest, TruncatedValue) {
  GgufBytes b;
  b.Header(0, 1).Key("x", kU32).Mark("value").U8(1).U8(2);
  ExpectError(b, b.mark("value"), "file truncated: integer value needs 4 bytes but only 2 remain");
}

TEST(ReaderMalformedTest, TruncatedInsideArray) {
  GgufBytes b;
  b.Header(0, 1).Key("arr", kArray).U32(kU32).Mark("count").U64(3).U32(1).U32(2).U8(0).U8(0);
  ExpectError(b, b.mark("count"),
              "key 'arr': array of 3 u32 values needs at least 12 bytes but only 10 remain");
}

TEST(ReaderMalformedTest, ArraysNestedTooDeep) {
  GgufBytes b;
  b.Header(0, 1).Str("deep").U32(kArray);
  for (int i = 0; i < 9; ++i) {
    if (i == 8) b.Mark("ninth");
    b.U32(kArray).U64(1);
  }
  b.U32(kU8).U64(0);
  ExpectError(b, b.mark("ninth"), "key 'deep': arrays nested more than 8 deep");
}

TEST(ReaderMalformedTest, BoolOutOfRange) {
  GgufBytes b;
  b.Header(0, 1).Key("flag", kBool).Mark("value").U8(2);
  ExpectError(b, b.mark("value"), "key 'flag': bool value is 2, must be 0 or 1");
}

TEST(ReaderMalformedTest, DuplicateKey) {
  GgufBytes b;
  b.Header(0, 2).Mark("first").KvU32("general.x", 1).Mark("second").KvU32("general.x", 2);
  ExpectError(
      b, b.mark("second"),
      "duplicate metadata key 'general.x' (first defined at byte " + std::to_string(b.mark("first")) + ")");
}

TEST(ReaderMalformedTest, AlignmentNotPowerOfTwo) {
  GgufBytes b;
  b.Header(0, 1).Key("general.alignment", kU32).Mark("value").U32(48);
  ExpectError(b, b.mark("value"), "general.alignment is 48: must be a power of two");
  GgufBytes zero;
  zero.Header(0, 1).Key("general.alignment", kU32).Mark("value").U32(0);
  ExpectError(zero, zero.mark("value"), "general.alignment is 0: must be a power of two");
}

TEST(ReaderMalformedTest, AlignmentOfWrongType) {
  GgufBytes b;
  b.Header(0, 1).Key("general.alignment", kString).Mark("value").Str("32");
  ExpectError(b, b.mark("value"), "general.alignment must be an unsigned integer, got str");
}

TEST(ReaderMalformedTest, TensorNameTooLong) {
  const std::string name(64, 'n');
  GgufBytes b;
  b.Header(1, 0).Mark("info").TensorInfo(name, {32}, kTypeF32, 0).PadTo(32).Fill(128, 0);
  ExpectError(b, b.mark("info"), "tensor 0 name is 64 bytes long; ggml allows at most 63");
}

TEST(ReaderMalformedTest, DuplicateTensorName) {
  GgufBytes b;
  b.Header(2, 0).Mark("a").TensorInfo("w", {8}, kTypeF32, 0).Mark("b").TensorInfo("w", {8}, kTypeF32, 32);
  b.PadTo(32).Fill(64, 0);
  ExpectError(b, b.mark("b"),
              "duplicate tensor name 'w' (first defined at byte " + std::to_string(b.mark("a")) + ")");
}

TEST(ReaderMalformedTest, TooManyDimensions) {
  GgufBytes b;
  b.Header(1, 0).Str("w").Mark("dims").U32(5);
  b.Fill(64, 0);
  ExpectError(b, b.mark("dims"), "tensor 'w' has 5 dimensions; at most 4 are allowed");
}

TEST(ReaderMalformedTest, NegativeDimension) {
  GgufBytes b;
  b.Header(1, 0).Str("w").U32(2).I64(4).Mark("dim").I64(-3).U32(kTypeF32).U64(0);
  ExpectError(b, b.mark("dim"), "tensor 'w' dimension 1 is negative (-3)");
}

TEST(ReaderMalformedTest, ElementCountOverflow) {
  GgufBytes b;
  b.Header(1, 0)
      .Str("w")
      .U32(3)
      .I64(int64_t{1} << 31)
      .I64(int64_t{1} << 31)
      .Mark("dim")
      .I64(int64_t{1} << 31);
  b.U32(kTypeF32).U64(0);
  ExpectError(b, b.mark("dim"),
              "tensor 'w' shape [2147483648, 2147483648, 2147483648]...: element count overflows");
}

TEST(ReaderMalformedTest, ByteSizeOverflow) {
  GgufBytes b;  // 2^62 elements fit in int64, but 8 bytes each do not fit in 64 bits
  b.Header(1, 0)
      .Str("w")
      .U32(2)
      .I64(int64_t{1} << 31)
      .I64(int64_t{1} << 31)
      .Mark("type")
      .U32(kTypeI64)
      .U64(0);
  ExpectError(b, b.mark("type"),
              "tensor 'w' shape [2147483648, 2147483648] of type i64: byte size overflows");
}

TEST(ReaderMalformedTest, UnknownTensorType) {
  for (uint32_t id : {4u, 31u, 39u, 1000u}) {  // 4 and 31 were retired by ggml
    GgufBytes b;
    b.Header(1, 0).Str("w").U32(1).I64(32).Mark("type").U32(id).U64(0).PadTo(32).Fill(128, 0);
    ExpectError(b, b.mark("type"), "tensor 'w' has unknown ggml type id " + std::to_string(id));
  }
}

TEST(ReaderMalformedTest, RowNotMultipleOfBlockSize) {
  GgufBytes b;
  b.Header(1, 0).Str("w").U32(2).I64(33).I64(2).Mark("type").U32(kTypeQ4_0).U64(0).PadTo(32).Fill(128, 0);
  ExpectError(b, b.mark("type"),
              "tensor 'w' of type q4_0 has rows of 33 elements, not a multiple of its block size 32");
}

TEST(ReaderMalformedTest, TruncatedTensorInfo) {
  GgufBytes b;
  b.Header(1, 0).Str("w").U32(2).I64(32).Mark("cut").U32(7);  // second dimension cut short
  ExpectError(b, b.mark("cut"), "file truncated: tensor dimension needs 8 bytes but only 4 remain");
}

TEST(ReaderMalformedTest, MisalignedTensorOffset) {
  GgufBytes b = OneTensorFile({8}, kTypeF32, 4, 64);
  ExpectError(b, b.mark("end") - 8, "tensor 'w' data offset 4 is not a multiple of the alignment 32");
}

TEST(ReaderMalformedTest, TensorDataPastEndOfFile) {
  GgufBytes b = OneTensorFile({64}, kTypeF32, 0, 100);  // needs 256 bytes
  ExpectError(b, b.mark("end") - 8, "tensor 'w' data (256 bytes at data offset 0");
  ExpectError(b, b.mark("end") - 8, "extends past the end of the file");
  GgufBytes far = OneTensorFile({8}, kTypeF32, uint64_t{1} << 62, 64);
  ExpectError(far, far.mark("end") - 8, "extends past the end of the file");
}

TEST(ReaderMalformedTest, DataSectionPastEndOfFile) {
  GgufBytes b;
  b.Header(1, 0).TensorInfo("w", {0}, kTypeF32, 0);  // the padding to 32 bytes is missing
  ASSERT_NE(b.size() % 32, 0u);
  ExpectError(b, b.size(), "the tensor data section would start at byte");
}

TEST(ReaderMalformedTest, OverlappingTensors) {
  GgufBytes b;
  b.Header(2, 0).TensorInfo("a", {16}, kTypeF32, 0).Mark("b").TensorInfo("b", {16}, kTypeF32, 32).Mark("end");
  b.PadTo(32).Fill(128, 0);  // a covers [0, 64), b starts at 32
  ExpectError(b, b.mark("end") - 8, "tensor 'b' data [32, 96) overlaps tensor 'a' data [0, 64)");
}

TEST(ReaderMalformedTest, EveryTruncationOfAValidFileIsAnErrorNotACrash) {
  GgufBytes b;
  b.Header(1, 3).KvStr("general.architecture", "llama").KvU32("general.alignment", 32);
  b.Key("arr", kArray).U32(kString).U64(2).Str("x").Str("yz");
  b.TensorInfo("w", {8, 2}, kTypeF32, 0).PadTo(32).Fill(64, 0x3f);
  ASSERT_TRUE(ParseGguf(b.span(), "full.gguf").ok());
  for (size_t n = 0; n < b.size(); ++n) {
    auto result = ParseGguf(b.span().first(n), "cut.gguf");
    ASSERT_FALSE(result.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_NE(result.error().message.find("cut.gguf: at byte "), std::string::npos) << result.error().message;
  }
}

}  // namespace
}  // namespace quantlab
