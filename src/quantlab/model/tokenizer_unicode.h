// The small slice of Unicode the tokenizers need: UTF-8 decoding with llama.cpp's leniency, general
// categories collapsed to the regex classes \p{L} \p{N} \p{P} \p{S} \p{M} \p{Z} \p{C}, the White_Space
// property, and GPT-2's byte <-> printable code point mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quantlab::unicode {

enum class UnicodeCategory : uint8_t {
  kUnassigned,  // Cn, and anything past U+10FFFF
  kLetter,
  kNumber,
  kPunctuation,
  kSymbol,
  kMark,
  kSeparator,
  kControl,  // Cc, Cf, Co, Cs
};

struct UnicodeRange {
  uint32_t start;  // first code point; the range ends where the next one starts
  UnicodeCategory category;
};

// Generated table (tokenizer_unicode_table.cc), sorted by start, first start 0.
extern const UnicodeRange kCategoryRanges[];
extern const size_t kCategoryRangeCount;

UnicodeCategory CategoryOf(uint32_t cp);
// Unicode White_Space property (\s in the Python/Rust regexes the tokenizers were defined with).
bool IsWhitespace(uint32_t cp);

// Length of a UTF-8 sequence from its first byte, judged by the high nibble only (a stray
// continuation byte counts as 1), as llama.cpp splits text into symbols.
size_t Utf8SequenceLength(uint8_t first_byte);

// Decodes UTF-8 into code points; a byte that does not start a well-formed sequence becomes U+FFFD
// and decoding resumes at the next byte (llama.cpp's behaviour; overlong forms are not rejected).
std::vector<uint32_t> DecodeUtf8(std::string_view text);
void AppendUtf8(uint32_t cp, std::string& out);

// GPT-2 byte-level mapping: every byte to a printable code point (as UTF-8), and back.
const std::string& ByteToBpeChar(uint8_t byte);
// Returns -1 when `cp` is not one of the 256 mapped code points.
int BpeCharToByte(uint32_t cp);

}  // namespace quantlab::unicode
