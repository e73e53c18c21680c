// Tokenizer behaviour on vocabularies written here, with expected ids worked out by hand (the merge
// order is traced in the comments).
#include "quantlab/model/tokenizer.h"

#include <gtest/gtest.h>

#include "model/tokenizer_test_util.h"

namespace quantlab {
namespace {

using testing::ByteId;
using testing::kFirstPiece;
using testing::SetMerges;
using testing::SpmTokens;
using testing::TestToken;
using testing::VocabMetadata;
using Ids = std::vector<int32_t>;

// Pieces from id 259.
enum SpmId : int32_t {
  kSpace = kFirstPiece,  // "▁"
  kH,
  kE,
  kL,
  kO,
  kA,
  kHe,
  kLl,
  kLo,
  kSpaceHe,
  kLlo,
  kSpaceHello,
  kAa,
  kSpaceA,
  kSpaceSpace,
  kSep,  // user-defined "<sep>"
};

GgufMetadata SpmMetadata() {
  return VocabMetadata("llama", SpmTokens({
                                    {"\xE2\x96\x81", -10},
                                    {"h", -10},
                                    {"e", -10},
                                    {"l", -10},
                                    {"o", -10},
                                    {"a", -10},
                                    {"he", -1},
                                    {"ll", -1},
                                    {"lo", -0.5},
                                    {"\xE2\x96\x81he", -2},
                                    {"llo", -3},
                                    {"\xE2\x96\x81hello", -4},
                                    {"aa", -1},
                                    {"\xE2\x96\x81"
                                     "a",
                                     -5},
                                    {"\xE2\x96\x81\xE2\x96\x81", -6},
                                    {"<sep>", 0, TokenType::kUserDefined},
                                }));
}

Tokenizer Make(const GgufMetadata& md) {
  auto tok = Tokenizer::FromGguf(md);
  EXPECT_TRUE(tok.ok()) << (tok.ok() ? "" : tok.error().message);
  return std::move(tok).value();
}

TEST(SpmTokenizer, MergesHighestScoreFirst) {
  const Tokenizer tok = Make(SpmMetadata());
  // "▁hello": lo(-0.5) first; then he and ll tie at -1 but ll is stale (its right symbol grew), so he;
  // then ▁he(-2), llo(-3), and finally ▁hello(-4).
  EXPECT_EQ(tok.Encode("hello", /*add_special=*/true), (Ids{1, kSpaceHello}));
  EXPECT_EQ(tok.Encode("hello", false), (Ids{kSpaceHello}));
}

TEST(SpmTokenizer, EqualScoresMergeLeftmostFirst) {
  const Tokenizer tok = Make(SpmMetadata());
  // "▁aaa": both "aa" pairs score -1; the left one wins, leaving "▁" "aa" "a" (neither "▁aa" nor
  // "aaa" exists). Merging the right pair first would have given "▁a" "aa".
  EXPECT_EQ(tok.Encode("aaa", false), (Ids{kSpace, kAa, kA}));
}

TEST(SpmTokenizer, RepeatedSpaces) {
  const Tokenizer tok = Make(SpmMetadata());
  // " " + "  a" = "▁▁▁a": "▁a"(-5) beats the two "▁▁"(-6); then the leftmost "▁▁".
  EXPECT_EQ(tok.Encode("  a", false), (Ids{kSpaceSpace, kSpaceA}));
}

TEST(SpmTokenizer, ByteFallbackForUnknownCharacters) {
  const Tokenizer tok = Make(SpmMetadata());
  // "é" (C3 A9) is not a piece: its two byte tokens. "h" and "▁" do not merge ("▁h" is absent).
  EXPECT_EQ(tok.Encode("h\xC3\xA9", false), (Ids{kSpace, kH, ByteId(0xC3), ByteId(0xA9)}));
  EXPECT_EQ(tok.Encode("\n", false), (Ids{kSpace, ByteId('\n')}));
}

TEST(SpmTokenizer, UnknownWhenNoByteTokens) {
  // Without byte tokens a character outside the vocabulary becomes <unk>.
  const Tokenizer tok = Make(VocabMetadata("llama", {{"<unk>", 0, TokenType::kUnknown},
                                                     {"<s>", 0, TokenType::kControl},
                                                     {"</s>", 0, TokenType::kControl},
                                                     {"\xE2\x96\x81", -1},
                                                     {"x", -1}}));
  EXPECT_EQ(tok.Encode("xy", false), (Ids{3, 4, 0}));
}

TEST(SpmTokenizer, NoSpacePrefixWhenTheFileSaysSo) {
  GgufMetadata md = SpmMetadata();
  md.Set("tokenizer.ggml.add_space_prefix", GgufValue::Bool(false));
  const Tokenizer tok = Make(md);
  // "hello": lo, he, llo; "hello" itself is not a piece (only "▁hello").
  EXPECT_EQ(tok.Encode("hello", false), (Ids{kHe, kLlo}));
}

TEST(SpmTokenizer, SpecialTokensInText) {
  const Tokenizer tok = Make(SpmMetadata());
  // User-defined tokens are always cut out; the text after them gets a space prefix again.
  EXPECT_EQ(tok.Encode("he<sep>he", false), (Ids{kSpaceHe, kSep, kSpaceHe}));
  // Control tokens only with parse_special.
  EXPECT_EQ(tok.Encode("<s>he", false, /*parse_special=*/true), (Ids{1, kSpaceHe}));
  EXPECT_EQ(tok.Encode("<s>he", false, false), (Ids{kSpace, ByteId('<'), ByteId('s'), ByteId('>'), kHe}));
}

TEST(SpmTokenizer, BosAndEosFlags) {
  GgufMetadata md = SpmMetadata();
  {
    const Tokenizer tok = Make(md);
    EXPECT_TRUE(tok.add_bos());
    EXPECT_FALSE(tok.add_eos());
    EXPECT_EQ(tok.bos(), 1);
    EXPECT_EQ(tok.eos(), 2);
    EXPECT_EQ(tok.n_vocab(), kSep + 1);
    EXPECT_EQ(tok.Encode("", true), (Ids{1}));
    EXPECT_EQ(tok.Encode("", false), (Ids{}));
  }
  md.Set("tokenizer.ggml.add_bos_token", GgufValue::Bool(false));
  md.Set("tokenizer.ggml.add_eos_token", GgufValue::Bool(true));
  md.Set("tokenizer.ggml.eos_token_id", GgufValue::U32(kSep));
  const Tokenizer tok = Make(md);
  EXPECT_EQ(tok.Encode("hello", true), (Ids{kSpaceHello, kSep}));
  EXPECT_TRUE(tok.IsEog(kSep));
  EXPECT_FALSE(tok.IsEog(2));
}

TEST(SpmTokenizer, PiecesAndDecode) {
  const Tokenizer tok = Make(SpmMetadata());
  EXPECT_EQ(tok.TokenToPiece(kSpaceHello), " hello");
  EXPECT_EQ(tok.TokenToPiece(ByteId('A')), "A");
  EXPECT_EQ(tok.TokenToPiece(1), "");  // control
  EXPECT_EQ(tok.TokenToPiece(0), "");  // unknown
  EXPECT_EQ(tok.TokenToPiece(kSep), "<sep>");
  EXPECT_EQ(tok.TokenToPiece(-1), "");
  EXPECT_EQ(tok.TokenToPiece(tok.n_vocab()), "");
  EXPECT_EQ(tok.TokenText(kSpaceHe), "\xE2\x96\x81he");
  EXPECT_EQ(tok.GetTokenType(ByteId(0)), TokenType::kByte);
  EXPECT_FLOAT_EQ(tok.TokenScore(kLo), -0.5f);

  // The space prefix is removed from the first piece only; after BOS it stays (as in llama.cpp).
  EXPECT_EQ(tok.Decode(Ids{kSpaceHello, kSpaceHello}), "hello hello");
  EXPECT_EQ(tok.Decode(Ids{1, kSpaceHello}), " hello");
  for (const char* text : {"hello", "h\xC3\xA9  lo\n", "hello\thello", "  leading and trailing  "}) {
    EXPECT_EQ(tok.Decode(tok.Encode(text, false)), text);
  }
  EXPECT_TRUE(tok.IsEog(2));
  EXPECT_FALSE(tok.IsEog(1));
  EXPECT_FALSE(tok.IsEog(-1));
}

// Byte-level BPE: "Ġ" is the stand-in for the space byte.
enum BpeId : int32_t {
  kBh,
  kBe,
  kBl,
  kBo,
  kBSpace,
  kBw,
  kBr,
  kBd,
  kBhe,
  kBll,
  kBllo,
  kBhello,
  kBSpaceW,
  kBor,
  kBSpaceWor,
  kBld,
  kBSpaceWorld,
  kBEndOfText,
  kBBang,
  kBdr,
};

GgufMetadata BpeMetadata(const std::string& pre) {
  GgufMetadata md = VocabMetadata("gpt2", {{"h"},
                                           {"e"},
                                           {"l"},
                                           {"o"},
                                           {"\xC4\xA0"},
                                           {"w"},
                                           {"r"},
                                           {"d"},
                                           {"he"},
                                           {"ll"},
                                           {"llo"},
                                           {"hello"},
                                           {"\xC4\xA0w"},
                                           {"or"},
                                           {"\xC4\xA0wor"},
                                           {"ld"},
                                           {"\xC4\xA0world"},
                                           {"<|endoftext|>", 0, TokenType::kControl},
                                           {"!"},
                                           {"dr"}});
  SetMerges(md,
            {"h e", "l l", "ll o", "he llo", "\xC4\xA0 w", "o r", "\xC4\xA0w or", "l d", "\xC4\xA0wor ld"});
  md.Set("tokenizer.ggml.pre", GgufValue::Str(pre));
  md.Set("tokenizer.ggml.bos_token_id", GgufValue::U32(kBEndOfText));
  md.Set("tokenizer.ggml.eos_token_id", GgufValue::U32(kBEndOfText));
  return md;
}

TEST(BpeTokenizer, MergesByRank) {
  const Tokenizer tok = Make(BpeMetadata("gpt-2"));
  EXPECT_EQ(tok.kind(), TokenizerKind::kBpe);
  // "hello": h+e (rank 0), l+l (1), ll+o (2), he+llo (3). "Ġworld": Ġ+w (4), o+r (5), Ġw+or (6),
  // l+d (7), Ġwor+ld (8).
  EXPECT_EQ(tok.Encode("hello world", false), (Ids{kBhello, kBSpaceWorld}));
  EXPECT_EQ(tok.Encode("hello world!", false), (Ids{kBhello, kBSpaceWorld, kBBang}));
  // Two equal "l l" pairs: the leftmost merges.
  EXPECT_EQ(tok.Encode("lll", false), (Ids{kBll, kBl}));
  // "dr" is in the vocabulary but no merge builds it.
  EXPECT_EQ(tok.Encode("dr", false), (Ids{kBd, kBr}));
  EXPECT_FALSE(tok.add_bos());
  EXPECT_EQ(tok.Encode("he", true), (Ids{kBhe}));
}

TEST(BpeTokenizer, Llama3IgnoresMergesForWholeWordsAndAddsBos) {
  const Tokenizer tok = Make(BpeMetadata("llama-bpe"));
  EXPECT_TRUE(tok.add_bos());
  EXPECT_EQ(tok.Encode("dr", true), (Ids{kBEndOfText, kBdr}));
}

TEST(BpeTokenizer, SpecialTokens) {
  const Tokenizer tok = Make(BpeMetadata("gpt-2"));
  EXPECT_EQ(tok.Encode("hello<|endoftext|>", false, true), (Ids{kBhello, kBEndOfText}));
  // As plain text: "<|" and "|>" have no tokens and are dropped; of "endoftext" only the characters
  // in the vocabulary survive (e, d, o, e), as llama.cpp does.
  EXPECT_EQ(tok.Encode("hello<|endoftext|>", false, false), (Ids{kBhello, kBe, kBd, kBo, kBe}));
  EXPECT_TRUE(tok.IsEog(kBEndOfText));
}

TEST(BpeTokenizer, PiecesAndDecode) {
  const Tokenizer tok = Make(BpeMetadata("gpt-2"));
  EXPECT_EQ(tok.TokenToPiece(kBSpaceWorld), " world");
  EXPECT_EQ(tok.TokenToPiece(kBEndOfText), "");
  EXPECT_EQ(tok.Decode(Ids{kBhello, kBSpaceWorld, kBBang}), "hello world!");
  // gpt-2 cleans up " !" to "!" when decoding.
  EXPECT_EQ(tok.Encode("hello !", false), (Ids{kBhello, kBSpace, kBBang}));
  EXPECT_EQ(tok.Decode(Ids{kBhello, kBSpace, kBBang}), "hello!");
}

TEST(TokenizerErrors, MissingOrUnsupported) {
  GgufMetadata md = SpmMetadata();
  md.Remove("tokenizer.ggml.model");
  auto r = Tokenizer::FromGguf(md);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tokenizer.ggml.model"), std::string::npos);

  md = SpmMetadata();
  md.Set("tokenizer.ggml.model", GgufValue::Str("bert"));
  r = Tokenizer::FromGguf(md);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'bert'"), std::string::npos);

  md = SpmMetadata();
  md.Remove("tokenizer.ggml.tokens");
  r = Tokenizer::FromGguf(md);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tokenizer.ggml.tokens"), std::string::npos);

  md = SpmMetadata();
  md.Set("tokenizer.ggml.scores", GgufValue::Array(GgufValueType::kFloat32, {GgufValue::F32(0)}));
  r = Tokenizer::FromGguf(md);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tokenizer.ggml.scores"), std::string::npos);

  md = BpeMetadata("gpt-2");
  md.Remove("tokenizer.ggml.merges");
  r = Tokenizer::FromGguf(md);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tokenizer.ggml.merges"), std::string::npos);

  r = Tokenizer::FromGguf(BpeMetadata("deepseek-coder"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("deepseek-coder"), std::string::npos);
  EXPECT_NE(r.error().message.find("llama3"), std::string::npos);
}

}  // namespace
}  // namespace quantlab
