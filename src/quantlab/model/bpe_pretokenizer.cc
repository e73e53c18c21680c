#include "quantlab/model/bpe_pretokenizer.h"

#include <fmt/format.h>

#include "quantlab/model/tokenizer_unicode.h"

namespace quantlab {
namespace {

using unicode::UnicodeCategory;

// Character classes of each code point, computed once per text.
struct CharClass {
  bool letter = false;
  bool number = false;
  bool space = false;
  bool punct = false;
};

std::vector<CharClass> Classify(const std::vector<uint32_t>& cps) {
  std::vector<CharClass> classes(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) {
    const UnicodeCategory cat = unicode::CategoryOf(cps[i]);
    classes[i].letter = cat == UnicodeCategory::kLetter;
    classes[i].number = cat == UnicodeCategory::kNumber;
    classes[i].punct = cat == UnicodeCategory::kPunctuation;
    classes[i].space = unicode::IsWhitespace(cps[i]);
  }
  return classes;
}

// One piece of text being split: code points [begin, end). Every look-up outside it reads as "no
// character", which is how the regexes see the end of their input.
class Segment {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFF;

  Segment(const std::vector<uint32_t>& cps, const std::vector<CharClass>& classes, size_t begin, size_t end)
      : cps_(cps), classes_(classes), begin_(begin), end_(end), prev_end_(begin) {}

  size_t begin() const { return begin_; }
  size_t end() const { return end_; }
  bool In(size_t p) const { return p >= begin_ && p < end_; }
  uint32_t At(size_t p) const { return In(p) ? cps_[p] : kNone; }
  bool Letter(size_t p) const { return In(p) && classes_[p].letter; }
  bool Number(size_t p) const { return In(p) && classes_[p].number; }
  bool Space(size_t p) const { return In(p) && classes_[p].space; }
  bool Punct(size_t p) const { return In(p) && classes_[p].punct; }
  // [^\s\p{L}\p{N}] for a character that exists.
  bool Other(size_t p) const {
    return In(p) && !classes_[p].space && !classes_[p].letter && !classes_[p].number;
  }
  bool LineBreak(size_t p) const { return At(p) == '\r' || At(p) == '\n'; }

  // Closes the piece that started at the previous cut and ends at `end`; returns its length.
  size_t Cut(size_t end, std::vector<size_t>& out) {
    const size_t length = end - prev_end_;
    if (length > 0) out.push_back(length);
    prev_end_ = end;
    return length;
  }

 private:
  const std::vector<uint32_t>& cps_;
  const std::vector<CharClass>& classes_;
  size_t begin_;
  size_t end_;
  size_t prev_end_;
};

uint32_t AsciiLower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// 's|'t|'re|'ve|'m|'ll|'d at `pos`: returns the match length (0 = none). `fold_case` for the
// (?i:...) form. Only ASCII letters lower-case to s/t/m/d/r/v/e/l, so ASCII folding is enough.
size_t MatchContraction(const Segment& seg, size_t pos, bool fold_case) {
  if (seg.At(pos) != '\'' || !seg.In(pos + 1)) return 0;
  const auto lower = [&](uint32_t c) { return fold_case ? AsciiLower(c) : c; };
  const uint32_t c1 = lower(seg.At(pos + 1));
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (!seg.In(pos + 2)) return 0;
  const uint32_t c2 = lower(seg.At(pos + 2));
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ at `pos`, given a run of `n` whitespace characters there: the run minus its last
// character when a non-space follows (that one joins the next word), else the whole run.
size_t TrailingSpaceCut(const Segment& seg, size_t pos, size_t n) {
  if (n > 1 && seg.In(pos + n)) return pos + n - 1;
  return pos + n;
}

size_t CountSpaces(const Segment& seg, size_t pos) {
  size_t n = 0;
  while (seg.Space(pos + n)) ++n;
  return n;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void SplitGpt2Segment(Segment seg, std::vector<size_t>& out) {
  for (size_t pos = seg.begin(); pos < seg.end();) {
    if (size_t n = MatchContraction(seg, pos, /*fold_case=*/false)) {
      pos += seg.Cut(pos + n, out);
      continue;
    }
    // The optional leading space belongs to the class of the character after it.
    const size_t look = seg.At(pos) == ' ' ? pos + 1 : pos;
    if (seg.Letter(look)) {
      for (pos = look; seg.Letter(pos);) ++pos;
      seg.Cut(pos, out);
      continue;
    }
    if (seg.Number(look)) {
      for (pos = look; seg.Number(pos);) ++pos;
      seg.Cut(pos, out);
      continue;
    }
    if (seg.Other(look)) {
      for (pos = look; seg.Other(pos);) ++pos;
      seg.Cut(pos, out);
      continue;
    }
    const size_t spaces = CountSpaces(seg, pos);
    pos = spaces > 0 ? TrailingSpaceCut(seg, pos, spaces) : pos + 1;
    seg.Cut(pos, out);
  }
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
void SplitLlama3Segment(Segment seg, size_t max_digits, std::vector<size_t>& out) {
  for (size_t pos = seg.begin(); pos < seg.end();) {
    if (size_t n = MatchContraction(seg, pos, /*fold_case=*/true)) {
      pos += seg.Cut(pos + n, out);
      continue;
    }
    // One optional character that is not a line break, letter or digit, then letters.
    if (!seg.LineBreak(pos) && !seg.Number(pos) && (seg.Letter(pos) || seg.Letter(pos + 1))) {
      for (++pos; seg.Letter(pos);) ++pos;
      seg.Cut(pos, out);
      continue;
    }
    if (seg.Number(pos)) {
      size_t group_start = pos;
      while (seg.Number(pos)) {
        if (++pos - group_start >= max_digits) {
          seg.Cut(pos, out);
          group_start = pos;
        }
      }
      seg.Cut(pos, out);
      continue;
    }
    const size_t look = seg.At(pos) == ' ' ? pos + 1 : pos;
    if (seg.Other(look)) {
      for (pos = look; seg.Other(pos);) ++pos;
      while (seg.LineBreak(pos)) ++pos;
      seg.Cut(pos, out);
      continue;
    }
    // Whitespace: up to and including the last line break of the run if it has one.
    size_t spaces = 0;
    size_t after_last_break = 0;
    while (seg.Space(pos + spaces)) {
      if (seg.LineBreak(pos + spaces)) after_last_break = pos + spaces + 1;
      ++spaces;
    }
    if (after_last_break > 0) {
      pos = after_last_break;
    } else if (spaces > 0) {
      pos = TrailingSpaceCut(seg, pos, spaces);
    } else {
      ++pos;
    }
    seg.Cut(pos, out);
  }
}

// A regex without alternatives that can fail somewhere, used through regex-iterator semantics: the
// leftmost match is cut out, and the text between matches stays as its own piece.
template <typename MatchLength>
void SplitByMatches(Segment seg, MatchLength match_length, std::vector<size_t>& out) {
  for (size_t pos = seg.begin(); pos < seg.end();) {
    const size_t n = match_length(seg, pos);
    if (n == 0) {
      ++pos;
      continue;
    }
    seg.Cut(pos, out);  // the unmatched text before, if any
    pos += n;
    seg.Cut(pos, out);
  }
  seg.Cut(seg.end(), out);
}

bool IsAsciiDigit(uint32_t c) { return c >= '0' && c <= '9'; }

// [\p{P}<extra>]+
auto PunctuationRun(std::string_view extra) {
  return [extra](const Segment& seg, size_t pos) {
    size_t n = 0;
    while (seg.In(pos + n) &&
           (seg.Punct(pos + n) || (seg.At(pos + n) < 128 && extra.find(static_cast<char>(seg.At(pos + n))) !=
                                                                std::string_view::npos))) {
      ++n;
    }
    return n;
  };
}

size_t NumberRun(const Segment& seg, size_t pos) {
  size_t n = 0;
  while (seg.Number(pos + n)) ++n;
  return n;
}

size_t SingleNumber(const Segment& seg, size_t pos) { return seg.Number(pos) ? 1 : 0; }

size_t ThreeAsciiDigits(const Segment& seg, size_t pos) {
  return IsAsciiDigit(seg.At(pos)) && IsAsciiDigit(seg.At(pos + 1)) && IsAsciiDigit(seg.At(pos + 2)) ? 3 : 0;
}

enum class Step {
  kGpt2,
  kLlama3,
  kQwen2,
  kPunctDefault,
  kPunctFalcon,
  kNumberRun,
  kSingleNumber,
  kThreeDigits
};

std::vector<Step> StepsOf(BpePreTokenizer type) {
  switch (type) {
    case BpePreTokenizer::kDefault:
      return {Step::kPunctDefault, Step::kGpt2, Step::kNumberRun, Step::kThreeDigits};
    case BpePreTokenizer::kGpt2:
      return {Step::kGpt2};
    case BpePreTokenizer::kDigitsThenGpt2:
      return {Step::kSingleNumber, Step::kGpt2};
    case BpePreTokenizer::kFalcon:
      return {Step::kPunctFalcon, Step::kGpt2, Step::kThreeDigits};
    case BpePreTokenizer::kLlama3:
      return {Step::kLlama3};
    case BpePreTokenizer::kQwen2:
      return {Step::kQwen2};
  }
  return {Step::kGpt2};
}

void ApplyStep(Step step, Segment seg, std::vector<size_t>& out) {
  switch (step) {
    case Step::kGpt2:
      return SplitGpt2Segment(seg, out);
    case Step::kLlama3:
      return SplitLlama3Segment(seg, 3, out);
    case Step::kQwen2:
      return SplitLlama3Segment(seg, 1, out);
    case Step::kPunctDefault:
      return SplitByMatches(seg, PunctuationRun("$+<=>^~|"), out);
    case Step::kPunctFalcon:
      return SplitByMatches(seg, PunctuationRun("$+<=>^~|`"), out);
    case Step::kNumberRun:
      return SplitByMatches(seg, NumberRun, out);
    case Step::kSingleNumber:
      return SplitByMatches(seg, SingleNumber, out);
    case Step::kThreeDigits:
      return SplitByMatches(seg, ThreeAsciiDigits, out);
  }
}

}  // namespace

Result<BpePreTokenizerConfig> BpePreTokenizerFromName(std::string_view name) {
  BpePreTokenizerConfig config;
  const auto is_any = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (name == n) return true;
    }
    return false;
  };
  if (is_any({"", "default"})) {
    config.type = BpePreTokenizer::kDefault;
  } else if (is_any({"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    config.type = BpePreTokenizer::kLlama3;
    config.ignore_merges = true;
    config.add_bos = true;
  } else if (is_any({"dbrx", "smaug-bpe"})) {
    config.type = BpePreTokenizer::kLlama3;
  } else if (is_any({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
                     "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais"})) {
    config.type = BpePreTokenizer::kGpt2;
  } else if (is_any({"starcoder", "refact", "codeshell", "exaone", "minerva-7b"})) {
    config.type = BpePreTokenizer::kDigitsThenGpt2;
  } else if (is_any({"smollm", "command-r"})) {
    config.type = BpePreTokenizer::kDigitsThenGpt2;
    config.clean_spaces = false;
  } else if (name == "falcon") {
    config.type = BpePreTokenizer::kFalcon;
  } else if (is_any({"qwen2", "deepseek-r1-qwen"})) {
    config.type = BpePreTokenizer::kQwen2;
    config.clean_spaces = false;
  } else if (is_any({"stablelm2", "megrez"})) {
    config.type = BpePreTokenizer::kQwen2;
  } else {
    return MakeError(
        "unsupported BPE pre-tokenizer '{}' (supported: default, llama3/llama-bpe, qwen2, gpt-2, mpt, olmo, "
        "starcoder, refact, smollm, falcon, dbrx, stablelm2 and their aliases)",
        name);
  }
  return config;
}

std::vector<size_t> SplitCodepoints(const std::vector<uint32_t>& cps, BpePreTokenizer type) {
  const std::vector<CharClass> classes = Classify(cps);
  std::vector<size_t> pieces = {cps.size()};
  if (cps.empty()) return {};
  for (Step step : StepsOf(type)) {
    std::vector<size_t> next;
    next.reserve(pieces.size());
    size_t start = 0;
    for (size_t length : pieces) {
      ApplyStep(step, Segment(cps, classes, start, start + length), next);
      start += length;
    }
    pieces = std::move(next);
  }
  return pieces;
}

std::vector<std::string> PreTokenizeBpe(std::string_view text, BpePreTokenizer type) {
  const std::vector<uint32_t> cps = unicode::DecodeUtf8(text);
  const std::vector<size_t> pieces = SplitCodepoints(cps, type);
  std::vector<std::string> words;
  words.reserve(pieces.size());
  size_t start = 0;
  std::string utf8;
  for (size_t length : pieces) {
    // Back to UTF-8 (malformed input is now U+FFFD), then each byte to its printable stand-in.
    utf8.clear();
    for (size_t i = start; i < start + length; ++i) unicode::AppendUtf8(cps[i], utf8);
    std::string word;
    for (char c : utf8) word += unicode::ByteToBpeChar(static_cast<uint8_t>(c));
    words.push_back(std::move(word));
    start += length;
  }
  return words;
}

}  // namespace quantlab
