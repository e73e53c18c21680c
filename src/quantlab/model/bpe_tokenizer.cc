// Byte-level BPE encoding as llama.cpp does it: each pre-tokenized word (bytes already mapped to
// printable code points) starts as one symbol per character; the adjacent pair with the lowest merge
// rank is merged until no pair is a merge (ties: the leftmost pair).
#include <queue>

#include "quantlab/model/tokenizer_impl.h"
#include "quantlab/model/tokenizer_unicode.h"

namespace quantlab {
namespace {

struct Symbol {
  int prev;
  int next;
  size_t offset;
  size_t length;
};

struct Candidate {
  int left;
  int right;
  int32_t rank;
  std::string text;  // both symbols' text when the candidate was made; stale when it changed
};

// Orders the queue: lowest rank on top, then the leftmost pair.
struct CandidateBelow {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

class BpeWordSession {
 public:
  BpeWordSession(const TokenizerImpl& vocab, const std::string& word) : vocab_(vocab), word_(word) {}

  void Encode(std::vector<int32_t>& out) {
    if (vocab_.pre.ignore_merges && vocab_.Find(word_) >= 0) {
      symbols_.push_back({-1, -1, 0, word_.size()});
    } else {
      for (size_t offset = 0; offset < word_.size();) {
        const size_t length =
            std::min(unicode::Utf8SequenceLength(static_cast<uint8_t>(word_[offset])), word_.size() - offset);
        const int index = static_cast<int>(symbols_.size());
        symbols_.push_back({index - 1, offset + length == word_.size() ? -1 : index + 1, offset, length});
        offset += length;
      }
    }
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) TryAddPair(i - 1, i);

    while (!queue_.empty()) {
      // The heap's top is moved out rather than copied (the text is a string).
      Candidate best = std::move(const_cast<Candidate&>(queue_.top()));
      queue_.pop();
      Symbol& left = symbols_[best.left];
      Symbol& right = symbols_[best.right];
      if (left.length == 0 || right.length == 0) continue;
      if (best.text.size() != left.length + right.length ||
          word_.compare(left.offset, left.length + right.length, best.text) != 0) {
        continue;
      }
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = best.left;
      TryAddPair(left.prev, best.left);
      TryAddPair(best.left, left.next);
    }

    for (const Symbol& symbol : symbols_) {
      if (symbol.length > 0) Emit(symbol, out);
    }
  }

 private:
  std::string TextOf(int index) const { return word_.substr(symbols_[index].offset, symbols_[index].length); }

  void TryAddPair(int left, int right) {
    if (left == -1 || right == -1) return;
    std::string left_text = TextOf(left);
    std::string right_text = TextOf(right);
    const int32_t rank = vocab_.MergeRank(left_text, right_text);
    if (rank < 0) return;
    queue_.push({left, right, rank, left_text + right_text});
  }

  // A symbol that is not a vocabulary entry (possible when merges and vocabulary disagree) is spelled
  // out byte by byte, keeping the bytes that exist as one-byte entries.
  void Emit(const Symbol& symbol, std::vector<int32_t>& out) const {
    const std::string_view text = std::string_view(word_).substr(symbol.offset, symbol.length);
    const int32_t id = vocab_.Find(text);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    for (size_t i = 0; i < text.size(); ++i) {
      const int32_t byte_id = vocab_.Find(text.substr(i, 1));
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }

  const TokenizerImpl& vocab_;
  const std::string& word_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateBelow> queue_;
};

}  // namespace

void EncodeBpe(const TokenizerImpl& vocab, std::string_view text, std::vector<int32_t>& out) {
  for (const std::string& word : PreTokenizeBpe(text, vocab.pre.type)) {
    BpeWordSession(vocab, word).Encode(out);
  }
}

}  // namespace quantlab
