// SentencePiece-style encoding as llama.cpp does it: the text is cut into UTF-8 characters, then the
// adjacent pair whose concatenation is the vocabulary entry with the highest score is merged, again
// and again (ties: the leftmost pair). Characters left that are not in the vocabulary fall back to
// their <0xXX> byte tokens.
#include <queue>

#include "quantlab/model/tokenizer_impl.h"
#include "quantlab/model/tokenizer_unicode.h"

namespace quantlab {
namespace {

// A run of the text; merged symbols grow, the absorbed ones get length 0. prev/next form a list.
struct Symbol {
  int prev;
  int next;
  size_t offset;
  size_t length;
};

struct Candidate {
  int left;
  int right;
  float score;
  size_t length;  // bytes of both symbols when the candidate was made; stale when it changed
};

// Orders the queue: highest score on top, then the leftmost pair.
struct CandidateBelow {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

class SpmSession {
 public:
  SpmSession(const TokenizerImpl& vocab, std::string_view text) : vocab_(vocab), text_(text) {}

  void Encode(std::vector<int32_t>& out) {
    for (size_t offset = 0; offset < text_.size();) {
      const size_t length =
          std::min(unicode::Utf8SequenceLength(static_cast<uint8_t>(text_[offset])), text_.size() - offset);
      const int index = static_cast<int>(symbols_.size());
      symbols_.push_back({index - 1, offset + length == text_.size() ? -1 : index + 1, offset, length});
      offset += length;
    }
    for (int i = 1; i < static_cast<int>(symbols_.size()); ++i) TryAddPair(i - 1, i);

    while (!queue_.empty()) {
      const Candidate best = queue_.top();
      queue_.pop();
      Symbol& left = symbols_[best.left];
      Symbol& right = symbols_[best.right];
      if (left.length == 0 || right.length == 0 || left.length + right.length != best.length) continue;
      left.length += right.length;
      right.length = 0;
      left.next = right.next;
      if (right.next >= 0) symbols_[right.next].prev = best.left;
      TryAddPair(left.prev, best.left);
      TryAddPair(best.left, left.next);
    }

    for (int i = symbols_.empty() ? -1 : 0; i != -1; i = symbols_[i].next) Emit(symbols_[i], out);
  }

 private:
  std::string_view TextOf(const Symbol& s) const { return text_.substr(s.offset, s.length); }

  void TryAddPair(int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string_view pair =
        text_.substr(symbols_[left].offset, symbols_[left].length + symbols_[right].length);
    const int32_t id = vocab_.Find(pair);
    if (id < 0) return;
    queue_.push({left, right, vocab_.tokens[id].score, pair.size()});
  }

  // A final symbol is a vocabulary entry (every merge made one), or a single character that is not;
  // the latter is spelled out as byte tokens.
  void Emit(const Symbol& symbol, std::vector<int32_t>& out) const {
    const std::string_view text = TextOf(symbol);
    const int32_t id = vocab_.Find(text);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
    for (char c : text) {
      const int32_t byte_id = ByteToken(static_cast<uint8_t>(c));
      if (byte_id >= 0) out.push_back(byte_id);
    }
  }

  // <0xXX>, else the byte itself as a one-byte token, else unknown (llama.cpp has no answer there).
  int32_t ByteToken(uint8_t byte) const {
    static constexpr char kHex[] = "0123456789ABCDEF";
    const char name[] = {'<', '0', 'x', kHex[byte >> 4], kHex[byte & 15], '>'};
    int32_t id = vocab_.Find(std::string_view(name, sizeof(name)));
    if (id < 0) id = vocab_.Find(std::string_view(reinterpret_cast<const char*>(&byte), 1));
    if (id < 0) id = vocab_.unk_id;
    return id;
  }

  const TokenizerImpl& vocab_;
  std::string_view text_;
  std::vector<Symbol> symbols_;
  std::priority_queue<Candidate, std::vector<Candidate>, CandidateBelow> queue_;
};

}  // namespace

void EncodeSpm(const TokenizerImpl& vocab, std::string_view text, std::vector<int32_t>& out) {
  SpmSession(vocab, text).Encode(out);
}

}  // namespace quantlab
