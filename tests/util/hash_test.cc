#include "quantlab/util/hash.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "support/paths.h"

namespace quantlab {
namespace {

// Test vectors from FIPS 180-2 / NIST.
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(std::string_view("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex(std::string_view("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(std::string_view("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, IncrementalUpdatesMatchOneShot) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>('a' + i % 26);
  const std::string expected = Sha256Hex(text);
  // Every split point around the 64-byte block boundaries.
  for (size_t split : {0, 1, 55, 56, 63, 64, 65, 127, 128, 999, 1000}) {
    Sha256 hash;
    hash.Update(std::string_view(text).substr(0, split));
    hash.Update(std::string_view(text).substr(split));
    EXPECT_EQ(ToHex(hash.Finish()), expected) << "split at " << split;
  }
}

TEST(Sha256Test, FileHashStreamsAndMatchesBytes) {
  testing::TempDir dir;
  const auto path = dir / "data.bin";
  std::string content;
  for (int i = 0; i < (9 << 20) + 17; ++i) content += static_cast<char>(i * 31 % 251);  // > two 4 MiB chunks
  std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size()));
  auto hex = Sha256FileHex(path.string());
  ASSERT_TRUE(hex.ok()) << hex.error().message;
  EXPECT_EQ(*hex, Sha256Hex(content));
}

TEST(Sha256Test, MissingFileNamesThePath) {
  auto hex = Sha256FileHex("/nonexistent/model.gguf");
  ASSERT_FALSE(hex.ok());
  EXPECT_NE(hex.error().message.find("/nonexistent/model.gguf"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
