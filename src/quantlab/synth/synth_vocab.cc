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

}  // namespace quantlab
