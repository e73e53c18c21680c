// The BPE pre-tokenizers' word splits, worked out by hand from their regexes.
#include <gtest/gtest.h>

#include "quantlab/model/bpe_pretokenizer.h"
#include "quantlab/model/tokenizer_unicode.h"

namespace quantlab {
namespace {

using Words = std::vector<std::string>;

// The split as UTF-8 words (without the byte-to-code-point mapping, to keep expectations readable).
Words Split(std::string_view text, BpePreTokenizer type) {
  const std::vector<uint32_t> cps = unicode::DecodeUtf8(text);
  Words words;
  size_t start = 0;
  for (size_t length : SplitCodepoints(cps, type)) {
    std::string word;
    for (size_t i = start; i < start + length; ++i) unicode::AppendUtf8(cps[i], word);
    words.push_back(word);
    start += length;
  }
  return words;
}

TEST(BpePreTokenizer, Gpt2) {
  // Two spaces before "123": the first stands alone (\s+(?!\S)), the second joins the digits.
  EXPECT_EQ(Split("Hello world's  123 !!x\n\n", BpePreTokenizer::kGpt2),
            (Words{"Hello", " world", "'s", " ", " 123", " !!", "x", "\n\n"}));
  // Case-sensitive contractions: "'S" is punctuation followed by a letter word.
  EXPECT_EQ(Split("IT'S", BpePreTokenizer::kGpt2), (Words{"IT", "'", "S"}));
  EXPECT_EQ(Split("", BpePreTokenizer::kGpt2), (Words{}));
}

TEST(BpePreTokenizer, Llama3) {
  EXPECT_EQ(Split("Hello WORLD'S 1234567 ..\n\n  x", BpePreTokenizer::kLlama3),
            (Words{"Hello", " WORLD", "'S", " ", "123", "456", "7", " ..\n\n", " ", " x"}));
  // A non-letter, non-digit character may lead a letter run; punctuation takes only line breaks that
  // follow it directly; a whitespace run with line breaks is cut after its last break.
  EXPECT_EQ(Split("(abc)\t\n \n  y", BpePreTokenizer::kLlama3), (Words{"(abc", ")", "\t\n \n", " ", " y"}));
  EXPECT_EQ(Split("x.\n\ny", BpePreTokenizer::kLlama3), (Words{"x", ".\n\n", "y"}));
}

TEST(BpePreTokenizer, Qwen2SplitsDigitsSingly) {
  EXPECT_EQ(Split("ab 1234", BpePreTokenizer::kQwen2), (Words{"ab", " ", "1", "2", "3", "4"}));
}

TEST(BpePreTokenizer, UnicodeClasses) {
  // "é" is a letter, "٣" (Arabic-Indic three) a number, U+3000 whitespace, "—" punctuation.
  EXPECT_EQ(Split("caf\xC3\xA9 \xD9\xA3\xE3\x80\x80\xE2\x80\x94x", BpePreTokenizer::kGpt2),
            (Words{"caf\xC3\xA9", " \xD9\xA3", "\xE3\x80\x80", "\xE2\x80\x94", "x"}));
}

TEST(BpePreTokenizer, DefaultAndDigitsFirst) {
  // Default: punctuation runs first, then GPT-2, then number runs, then groups of three ASCII digits.
  EXPECT_EQ(Split("a+b 12345", BpePreTokenizer::kDefault), (Words{"a", "+", "b", " ", "123", "45"}));
  EXPECT_EQ(Split("x 42", BpePreTokenizer::kDigitsThenGpt2), (Words{"x", " ", "4", "2"}));
}

TEST(BpePreTokenizer, MalformedUtf8BecomesReplacementCharacter) {
  const std::vector<std::string> words = PreTokenizeBpe("a\xFF", BpePreTokenizer::kGpt2);
  // U+FFFD is a symbol (So) after a letter: two words; its UTF-8 bytes EF BF BD map to "ï", "¿", "½".
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(words[0], "a");
  EXPECT_EQ(words[1], "\xC3\xAF\xC2\xBF\xC2\xBD");
}

TEST(BpePreTokenizer, UnicodeCategories) {
  using unicode::CategoryOf;
  using unicode::UnicodeCategory;
  EXPECT_EQ(CategoryOf('A'), UnicodeCategory::kLetter);
  EXPECT_EQ(CategoryOf('7'), UnicodeCategory::kNumber);
  EXPECT_EQ(CategoryOf('_'), UnicodeCategory::kPunctuation);
  EXPECT_EQ(CategoryOf('$'), UnicodeCategory::kSymbol);
  EXPECT_EQ(CategoryOf(' '), UnicodeCategory::kSeparator);
  EXPECT_EQ(CategoryOf(0x0301), UnicodeCategory::kMark);
  EXPECT_EQ(CategoryOf(0xE000), UnicodeCategory::kControl);  // private use
  EXPECT_EQ(CategoryOf(0xD800), UnicodeCategory::kControl);  // surrogate
  EXPECT_EQ(CategoryOf(0x0CF3), UnicodeCategory::kMark);     // new in Unicode 15.0
  EXPECT_EQ(CategoryOf(0x2EBF0), UnicodeCategory::kLetter);  // CJK Extension I, new in 15.1
  EXPECT_EQ(CategoryOf(0x0378), UnicodeCategory::kUnassigned);
  EXPECT_EQ(CategoryOf(0x10FFFF), UnicodeCategory::kUnassigned);
  EXPECT_EQ(CategoryOf(0x110000), UnicodeCategory::kUnassigned);
  EXPECT_TRUE(unicode::IsWhitespace(0x85));
  EXPECT_TRUE(unicode::IsWhitespace(0x3000));
  EXPECT_FALSE(unicode::IsWhitespace(0x1C));  // Python's str.isspace says yes; White_Space does not
  EXPECT_FALSE(unicode::IsWhitespace(0x200B));
}

TEST(BpePreTokenizer, ByteMapping) {
  EXPECT_EQ(unicode::ByteToBpeChar(' '), "\xC4\xA0");   // Ġ = U+0120
  EXPECT_EQ(unicode::ByteToBpeChar('\n'), "\xC4\x8A");  // Ċ = U+010A
  EXPECT_EQ(unicode::ByteToBpeChar('A'), "A");
  for (int b = 0; b < 256; ++b) {
    const std::vector<uint32_t> cps = unicode::DecodeUtf8(unicode::ByteToBpeChar(static_cast<uint8_t>(b)));
    ASSERT_EQ(cps.size(), 1u);
    EXPECT_EQ(unicode::BpeCharToByte(cps[0]), b);
  }
  EXPECT_EQ(unicode::BpeCharToByte(' '), -1);
}

TEST(BpePreTokenizer, NamesAndFlags) {
  auto llama3 = BpePreTokenizerFromName("llama-bpe");
  ASSERT_TRUE(llama3.ok());
  EXPECT_EQ(llama3->type, BpePreTokenizer::kLlama3);
  EXPECT_TRUE(llama3->ignore_merges);
  EXPECT_TRUE(llama3->add_bos);
  auto qwen2 = BpePreTokenizerFromName("qwen2");
  ASSERT_TRUE(qwen2.ok());
  EXPECT_EQ(qwen2->type, BpePreTokenizer::kQwen2);
  EXPECT_FALSE(qwen2->clean_spaces);
  auto none = BpePreTokenizerFromName("");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->type, BpePreTokenizer::kDefault);
  EXPECT_FALSE(BpePreTokenizerFromName("tekken").ok());
}

}  // namespace
}  // namespace quantlab
