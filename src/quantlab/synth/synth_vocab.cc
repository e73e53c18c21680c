#include "quantlab/synth/synth_vocab.h"

#include <fmt/format.h>

#include <string_view>
#include <unordered_set>

#include "quantlab/util/check.h"

namespace quantlab {
namespace {

// U+2581 LOWER ONE EIGHTH BLOCK: SentencePiece's marker for "a word starts here" (replaces spaces).
constexpr std::string_view kWordMark = "\xE2\x96\x81";

constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyz";

// Frequent English words get whole-word tokens so that ordinary text tokenizes into few pieces.
constexpr std::string_view kCommonWords[] = {
    "the",   "of",    "and",   "to",    "in",    "is",     "that", "it",    "was",   "for",    "on",
    "are",   "as",    "with",  "his",   "they",  "at",     "be",   "this",  "have",  "from",   "or",
    "one",   "had",   "by",    "word",  "but",   "not",    "what", "all",   "were",  "we",     "when",
    "your",  "can",   "said",  "there", "use",   "an",     "each", "which", "she",   "do",     "how",
    "their", "if",    "will",  "up",    "other", "about",  "out",  "many",  "then",  "them",   "these",
    "so",    "some",  "her",   "would", "make",  "like",   "him",  "into",  "time",  "has",    "look",
    "two",   "more",  "write", "go",    "see",   "number", "no",   "way",   "could", "people", "my",
    "than",  "first", "water", "been",  "call",  "who",    "its",  "now",   "find",  "long",   "down",
    "day",   "did",   "get",   "come",  "made",  "may",    "part", "hello", "world", "model",  "small",
};

class Builder {
 public:
  explicit Builder(int n_vocab) : n_vocab_(n_vocab) {}

  bool full() const { return static_cast<int>(vocab_.tokens.size()) >= n_vocab_; }

  void Add(std::string piece, float score, SpmTokenType type) {
    if (full() || !seen_.insert(piece).second) return;
    vocab_.tokens.push_back(std::move(piece));
    vocab_.scores.push_back(score);
    vocab_.types.push_back(type);
  }

  // Normal pieces are scored by rank: earlier (more common) pieces win SentencePiece's merges.
  void AddNormal(std::string piece) {
    Add(std::move(piece), -static_cast<float>(normal_rank_++), SpmTokenType::kNormal);
  }

  SynthVocab Take() { return std::move(vocab_); }

 private:
  int n_vocab_;
  int normal_rank_ = 0;
  SynthVocab vocab_;
  std::unordered_set<std::string> seen_;
};

// All strings of `length` lowercase letters, in lexicographic order, passed to `emit` until it returns
// false.
template <typename Emit>
bool ForEachLetterString(int length, Emit&& emit) {
  std::string s(static_cast<size_t>(length), 'a');
  while (true) {
    if (!emit(s)) return false;
    int i = length - 1;
    while (i >= 0 && s[static_cast<size_t>(i)] == 'z') s[static_cast<size_t>(i--)] = 'a';
    if (i < 0) return true;
    ++s[static_cast<size_t>(i)];
  }
}

}  // namespace

SynthVocab MakeSynthVocab(int n_vocab) {
  QL_CHECK_MSG(n_vocab >= kMinSynthVocab, "synthetic vocabulary too small");
  Builder b(n_vocab);
  b.Add("<unk>", 0.0f, SpmTokenType::kUnknown);
  b.Add("<s>", 0.0f, SpmTokenType::kControl);
  b.Add("</s>", 0.0f, SpmTokenType::kControl);
  for (int byte = 0; byte < 256; ++byte) b.Add(fmt::format("<0x{:02X}>", byte), 0.0f, SpmTokenType::kByte);

  b.AddNormal(std::string(kWordMark));
  for (std::string_view word : kCommonWords) b.AddNormal(std::string(kWordMark) + std::string(word));
  for (char c : kLetters) b.AddNormal(std::string(kWordMark) + c);
  for (char c : kLetters) b.AddNormal(std::string(1, c));
  for (char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()")) {
    b.AddNormal(std::string(1, c));
    b.AddNormal(std::string(kWordMark) + c);
  }
  for (std::string_view word : kCommonWords) b.AddNormal(std::string(word));
  // Then letter n-grams of growing length, each bare and word-initial, until the vocabulary is full.
  for (int length = 2; !b.full(); ++length) {
    ForEachLetterString(length, [&](const std::string& s) {
      b.AddNormal(s);
      b.AddNormal(std::string(kWordMark) + s);
      return !b.full();
    });
  }
  return b.Take();
}

namespace {

// GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the others for U+0100 on,
// in byte order; returned as UTF-8.
std::vector<std::string> ByteSymbols() {
  std::vector<std::string> symbols(256);
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    const int cp = printable ? b : next++;
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else {
      utf8 += static_cast<char>(0xC0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3F));
    }
    symbols[static_cast<size_t>(b)] = std::move(utf8);
  }
  return symbols;
}

class BpeBuilder {
 public:
  BpeBuilder(int n_normal, std::vector<std::string> bytes) : n_normal_(n_normal) {
    for (std::string& b : bytes) AddToken(std::move(b));
  }
  bool full() const { return static_cast<int>(v_.tokens.size()) >= n_normal_; }

  // Adds the tokens and merges that build `word` from its byte symbols left to right.
  void AddWord(const std::vector<std::string>& symbols) {
    std::string prefix = symbols.front();
    for (size_t i = 1; i < symbols.size() && !full(); ++i) {
      const std::string joined = prefix + symbols[i];
      if (!seen_.contains(joined)) {
        v_.merges.push_back(prefix + " " + symbols[i]);
        AddToken(joined);
      }
      prefix = joined;
    }
  }
  SynthBpeVocab Take() { return std::move(v_); }

 private:
  void AddToken(std::string text) {
    seen_.insert(text);
    v_.tokens.push_back(std::move(text));
    v_.types.push_back(SpmTokenType::kNormal);
  }
  int n_normal_;
  SynthBpeVocab v_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

SynthBpeVocab MakeSynthBpeVocab(int n_vocab, SynthBpeFlavor flavor) {
  QL_CHECK_MSG(n_vocab >= kMinSynthBpeVocab, "synthetic BPE vocabulary too small");
  const std::vector<std::string> specials =
      flavor == SynthBpeFlavor::kLlama3
          ? std::vector<std::string>{"<|begin_of_text|>", "<|end_of_text|>"}
          : std::vector<std::string>{"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  const std::vector<std::string> bytes = ByteSymbols();
  const std::string space = bytes[' '];  // 'Ġ'
  BpeBuilder b(n_vocab - static_cast<int>(specials.size()), bytes);
  const auto symbols_of = [&](std::string_view word, bool spaced) {
    std::vector<std::string> out;
    if (spaced) out.push_back(space);
    for (char c : word) out.push_back(bytes[static_cast<unsigned char>(c)]);
    return out;
  };
  for (std::string_view word : kCommonWords) b.AddWord(symbols_of(word, true));
  for (std::string_view word : kCommonWords) b.AddWord(symbols_of(word, false));
  for (char c : kLetters) b.AddWord(symbols_of(std::string_view(&c, 1), true));
  // Then letter pairs, bare and word-initial, until the vocabulary is full.
  for (char c1 : kLetters) {
    for (char c2 : kLetters) {
      const char pair[2] = {c1, c2};
      b.AddWord(symbols_of(std::string_view(pair, 2), false));
      b.AddWord(symbols_of(std::string_view(pair, 2), true));
    }
  }
  // Longer letter strings if a large vocabulary asks for more.
  for (int length = 3; !b.full(); ++length) {
    ForEachLetterString(length, [&](const std::string& s) {
      b.AddWord(symbols_of(s, true));
      return !b.full();
    });
  }
  SynthBpeVocab v = b.Take();
  const auto first_special = static_cast<int32_t>(v.tokens.size());
  for (const std::string& s : specials) {
    v.tokens.push_back(s);
    v.types.push_back(SpmTokenType::kControl);
  }
  v.bos_id = first_special;
  v.eos_id = flavor == SynthBpeFlavor::kLlama3 ? first_special + 1 : first_special;
  return v;
}

}  // namespace quantlab
