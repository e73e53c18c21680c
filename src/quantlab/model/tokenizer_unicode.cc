#include "quantlab/model/tokenizer_unicode.h"

#include <algorithm>
#include <array>

namespace quantlab::unicode {

UnicodeCategory CategoryOf(uint32_t cp) {
  if (cp >= 0x110000) return UnicodeCategory::kUnassigned;
  const UnicodeRange* begin = kCategoryRanges;
  const UnicodeRange* end = kCategoryRanges + kCategoryRangeCount;
  // The last range whose start is <= cp.
  const UnicodeRange* it =
      std::upper_bound(begin, end, cp, [](uint32_t value, const UnicodeRange& r) { return value < r.start; });
  return (it - 1)->category;
}

bool IsWhitespace(uint32_t cp) {
  // The White_Space property of PropList.txt; it has been stable for many Unicode versions.
  if (cp >= 0x09 && cp <= 0x0D) return true;
  if (cp >= 0x2000 && cp <= 0x200A) return true;
  switch (cp) {
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return false;
  }
}

size_t Utf8SequenceLength(uint8_t first_byte) {
  static constexpr std::array<uint8_t, 16> kByHighNibble = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kByHighNibble[first_byte >> 4];
}

namespace {

bool IsContinuation(std::string_view text, size_t i) {
  return i < text.size() && (static_cast<uint8_t>(text[i]) & 0xC0) == 0x80;
}

// Decodes one sequence at `offset`; returns false (offset untouched) when it is malformed.
bool DecodeOne(std::string_view text, size_t& offset, uint32_t& cp) {
  const auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(text[offset + i])); };
  const uint32_t b0 = byte(0);
  if ((b0 & 0x80) == 0) {
    cp = b0;
    offset += 1;
    return true;
  }
  if ((b0 & 0x40) == 0) return false;  // a continuation byte cannot start a sequence
  size_t length = 0;
  uint32_t value = 0;
  if ((b0 & 0x20) == 0) {
    length = 2;
    value = b0 & 0x1F;
  } else if ((b0 & 0x10) == 0) {
    length = 3;
    value = b0 & 0x0F;
  } else if ((b0 & 0x08) == 0) {
    length = 4;
    value = b0 & 0x07;
  } else {
    return false;
  }
  for (size_t i = 1; i < length; ++i) {
    if (!IsContinuation(text, offset + i)) return false;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  cp = value;
  offset += length;
  return true;
}

}  // namespace

std::vector<uint32_t> DecodeUtf8(std::string_view text) {
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  size_t offset = 0;
  while (offset < text.size()) {
    uint32_t cp = 0;
    if (DecodeOne(text, offset, cp)) {
      cps.push_back(cp);
    } else {
      cps.push_back(0xFFFD);
      offset += 1;
    }
  }
  return cps;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp > 0x10FFFF) cp = 0xFFFD;  // only reachable from 5-bit lead bytes F5..F7
  if (cp <= 0x7F) {
    out.push_back(static_cast<char>(cp));
  } else if (cp <= 0x7FF) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0xFFFF) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

namespace {

// GPT-2 maps the bytes that are printable Latin-1 characters ('!'..'~', '¡'..'¬', '®'..'ÿ') to
// themselves and every other byte, in increasing order, to U+0100, U+0101, ... so that byte strings
// become visible text without spaces or control characters.
struct BpeByteTable {
  std::array<std::string, 256> byte_to_char;
  std::array<int16_t, 512> char_to_byte;  // every mapped code point is < 0x144

  BpeByteTable() {
    char_to_byte.fill(-1);
    uint32_t next_extra = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const uint32_t cp = printable ? b : next_extra++;
      AppendUtf8(cp, byte_to_char[b]);
      char_to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const BpeByteTable& ByteTable() {
  static const BpeByteTable table;
  return table;
}

}  // namespace

const std::string& ByteToBpeChar(uint8_t byte) { return ByteTable().byte_to_char[byte]; }

int BpeCharToByte(uint32_t cp) { return cp < 512 ? ByteTable().char_to_byte[cp] : -1; }

}  // namespace quantlab::unicode
