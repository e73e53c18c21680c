// The demo model's tokenizer (models/demo/demo-f16.gguf) against llama.cpp's llama-tokenize (commit
// c392e509, `--ids --no-escape`, one run per input) on our inputs tests/data/tokenizer/extra.inp:
//   demo.out          default flags (BOS as the model asks, control tokens parsed)
//   demo.plain.out    --no-bos --no-parse-special
//   demo.detok        hex of llama_detokenize of the plain ids (libllama)
// and on the whole held-out split models/demo/eval.txt (with BOS, no special parsing, as
// llama-perplexity tokenizes): demo-eval.txt holds the token count and an FNV-1a hash of the ids.
// Produced from the first demo-f16.gguf (sha256 931eca23f92ebd61...); the retrained model has the same
// vocabulary (identical tokenizer.ggml.* keys), so they still hold. If the demo is retrained with a
// different vocabulary, regenerate them with llama-tokenize the same way.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/tokenizer_test_util.h"
#include "quantlab/model/tokenizer.h"
#include "support/paths.h"

namespace quantlab {
namespace {

using testing::DemoPath;
using testing::Hex;
using testing::Join;
using testing::ParseIds;
using testing::Printable;
using testing::ReadInputs;
using testing::ReadLines;
using testing::ReadTestFile;
using testing::TestDataPath;

Result<Tokenizer> LoadDemo() { return Tokenizer::FromFile(DemoPath("demo-f16.gguf").string()); }

TEST(DemoTokenizer, SameIdsAsLlamaTokenize) {
  if (!std::filesystem::exists(DemoPath("demo-f16.gguf")))
    GTEST_SKIP() << "models/demo/demo-f16.gguf not found";
  auto tok = LoadDemo();
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  EXPECT_EQ(tok->kind(), TokenizerKind::kSpm);

  const std::vector<std::string> inputs = ReadInputs(TestDataPath("tokenizer/extra.inp"));
  const auto with_bos = ReadLines(TestDataPath("tokenizer/demo.out"));
  const auto plain = ReadLines(TestDataPath("tokenizer/demo.plain.out"));
  const auto detok = ReadLines(TestDataPath("tokenizer/demo.detok"));
  ASSERT_GT(inputs.size(), 90u);
  ASSERT_EQ(with_bos.size(), inputs.size());
  ASSERT_EQ(plain.size(), inputs.size());
  ASSERT_EQ(detok.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::vector<int32_t> ids = tok->Encode(inputs[i], /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(Join(ids), Join(ParseIds(plain[i]))) << "input " << i << " '" << Printable(inputs[i]) << "'";
    EXPECT_EQ(Join(tok->Encode(inputs[i], tok->add_bos(), true)), Join(ParseIds(with_bos[i])))
        << "input " << i << " (BOS, special) '" << Printable(inputs[i]) << "'";
    EXPECT_EQ(Hex(tok->Decode(ids)), detok[i]) << "decode of input " << i;
  }
}

uint64_t Fnv1a(const std::vector<int32_t>& ids) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (int32_t id : ids) {
    for (int shift = 0; shift < 32; shift += 8) {
      hash ^= (static_cast<uint32_t>(id) >> shift) & 0xFF;
      hash *= 0x100000001B3ull;
    }
  }
  return hash;
}

TEST(DemoTokenizer, HeldOutSplitLikeLlamaCpp) {
  if (!std::filesystem::exists(DemoPath("demo-f16.gguf")))
    GTEST_SKIP() << "models/demo/demo-f16.gguf not found";
  auto tok = LoadDemo();
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const std::string text = ReadTestFile(DemoPath("eval.txt"));
  ASSERT_FALSE(text.empty());
  const std::vector<std::string> expected = ReadLines(TestDataPath("tokenizer/demo-eval.txt"));
  ASSERT_EQ(expected.size(), 2u);  // token count, FNV-1a of the ids (little-endian int32)
  const std::vector<int32_t> ids = tok->Encode(text, /*add_special=*/true, /*parse_special=*/false);
  EXPECT_EQ(std::to_string(ids.size()), expected[0]);
  EXPECT_EQ(fmt::format("{:016x}", Fnv1a(ids)), expected[1]);
}

}  // namespace
}  // namespace quantlab
